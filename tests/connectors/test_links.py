"""connectors/links.py: RFC 8288 Link headers as paginated APIs send them."""

from __future__ import annotations

import pytest

from connectors.links import Link, LinkHeaderError, find_link, parse_link_header, same_origin

GITHUB = (
    '<https://api.github.com/repositories/1300192/issues?page=2>; rel="prev", '
    '<https://api.github.com/repositories/1300192/issues?page=4>; rel="next", '
    '<https://api.github.com/repositories/1300192/issues?page=515>; rel="last", '
    '<https://api.github.com/repositories/1300192/issues?page=1>; rel="first"'
)


def test_github_style_header() -> None:
    links = parse_link_header(GITHUB)
    assert [sorted(link.rels) for link in links] == [["prev"], ["next"], ["last"], ["first"]]
    assert find_link(GITHUB, "next", "https://api.github.com/x") == (
        "https://api.github.com/repositories/1300192/issues?page=4"
    )
    assert find_link(GITHUB, "last", "https://api.github.com/x").endswith("page=515")


def test_commas_and_semicolons_inside_the_uri_and_quoted_params() -> None:
    header = '<https://ats.example/jobs?fields=a,b;c&page=2>; title="a, \\"quoted\\"; title"; rel="next", <x>; rel=prev'
    first, second = parse_link_header(header)
    assert first == Link("https://ats.example/jobs?fields=a,b;c&page=2", {"title": 'a, "quoted"; title', "rel": "next"})
    assert second.target == "x" and second.rels == {"prev"}


def test_relations_are_a_case_insensitive_space_separated_list() -> None:
    assert find_link('<https://a.example/2>; REL="Next Last"', "next", "https://a.example/") == "https://a.example/2"
    assert find_link('<https://a.example/2>; rel="nextpage"', "next", "https://a.example/") is None


def test_relative_targets_resolve_against_the_response_url() -> None:
    assert find_link("</api/jobs?page=3>; rel=next", "next", "https://ats.example/api/jobs?page=2") == (
        "https://ats.example/api/jobs?page=3"
    )
    assert find_link("<?page=3>; rel=next", "next", "https://ats.example/api/jobs?page=2") == (
        "https://ats.example/api/jobs?page=3"
    )


def test_first_rel_parameter_wins_and_bare_parameters_are_allowed() -> None:
    (link,) = parse_link_header('<https://a.example/2>; rel=next; rel=prev; crossorigin')
    assert link.rels == {"next"} and link.params["crossorigin"] == ""


def test_no_header_or_no_such_relation_means_no_link() -> None:
    assert find_link(None, "next", "https://a.example/") is None
    assert find_link("", "next", "https://a.example/") is None
    assert find_link('<https://a.example/1>; rel="first"', "next", "https://a.example/") is None
    assert parse_link_header(" , ,") == []


@pytest.mark.parametrize(
    "header",
    [
        "https://a.example/2; rel=next",  # no angle brackets
        "<https://a.example/2; rel=next",  # unterminated
        '<https://a.example/2>; rel="next',  # unterminated quote
        "<https://a.example/2> rel=next",  # missing ;
        "<https://a.example/2>; =next",  # missing name
    ],
)
def test_malformed_headers_raise(header: str) -> None:
    with pytest.raises(LinkHeaderError):
        find_link(header, "next", "https://a.example/")


@pytest.mark.parametrize(
    ("url", "base", "same"),
    [
        ("https://ats.example/api/jobs?page=2", "https://ats.example/api", True),
        ("https://ATS.example:443/x", "https://ats.example/api", True),
        ("http://ats.example/x", "https://ats.example/api", False),
        ("https://ats.example:8443/x", "https://ats.example/api", False),
        ("https://evil.example/x", "https://ats.example/api", False),
        ("https://ats.example.evil.example/x", "https://ats.example/api", False),
        ("https://ats.example:notaport/x", "https://ats.example/api", False),
    ],
)
def test_same_origin(url: str, base: str, same: bool) -> None:
    assert same_origin(url, base) is same
