"""engines/gazetteer.py and engines/skill_matcher.py: aliases, resolution, matching."""

from __future__ import annotations

import pytest

from engines.gazetteer import get_gazetteer, load_gazetteer, resolve_skill, skill_key
from engines.resume_phrases import UNKNOWN_ALIASES
from engines.skill_matcher import get_skill_matcher


def found(text: str) -> list[tuple[str, str]]:
    return [(h.skill_id, text[h.start : h.end]) for h in get_skill_matcher().find(text)]


def test_gazetteer_is_versioned_and_broad() -> None:
    gazetteer = get_gazetteer()
    assert gazetteer.version
    assert len(gazetteer.skills) >= 150
    categories = {s.category for s in gazetteer.skills.values()}
    expected = {"software", "data", "mechanical", "sales", "customer_service", "finance", "hr", "manufacturing"}
    assert expected <= categories


@pytest.mark.parametrize(
    ("name", "skill_id"),
    [
        ("SolidWorks", "solidworks"),
        ("SW", "solidworks"),
        ("solid works", "solidworks"),
        ("三维建模", "solidworks"),
        ("客诉处理", "complaint_handling"),
        ("投诉处理", "complaint_handling"),
        ("Salesforce", "salesforce"),
        ("CRM系统", "salesforce"),
        ("ＳＡＬＥＳＦＯＲＣＥ", "salesforce"),
        ("spring boot", "spring_boot"),
        ("SpringBoot", "spring_boot"),
        ("go", "golang"),
        ("Go语言", "golang"),
        ("C++", "cpp"),
        ("c#", "csharp"),
        (".net", "dotnet"),
        ("node.js", "nodejs"),
        ("k8s", "kubernetes"),
        ("python", "python"),
        ("Python", "python"),
        ("会计核算", "accounting"),
    ],
)
def test_resolve_skill(name: str, skill_id: str) -> None:
    assert resolve_skill(name) == skill_id


def test_resolve_unknown() -> None:
    assert resolve_skill("underwater basket weaving") is None
    assert resolve_skill("   ") is None


def test_every_display_name_is_found_in_text() -> None:
    gazetteer = get_gazetteer()
    matcher = get_skill_matcher()
    for skill in gazetteer.skills.values():
        for name in {skill.name, skill.name_zh}:
            hits = matcher.find(f"熟悉{name}。") if skill.case_sensitive else matcher.find(f"I know {name} well")
            assert skill.skill_id in {h.skill_id for h in hits}, (skill.skill_id, name)


def test_every_alias_resolves_to_its_skill() -> None:
    gazetteer = get_gazetteer()
    for skill in gazetteer.skills.values():
        for alias in skill.all_names():
            assert gazetteer.resolve(alias) == skill.skill_id, alias


def test_duplicate_alias_is_rejected() -> None:
    yaml_text = """
version: "t"
skills:
- {id: a, name: A, cat: x, aliases: [same]}
- {id: b, name: B, cat: x, aliases: [Same]}
"""
    with pytest.raises(ValueError, match="names both"):
        load_gazetteer(yaml_text)


def test_generator_unknown_aliases_are_really_unknown() -> None:
    for skill_id, spellings in UNKNOWN_ALIASES.items():
        for spelling in spellings:
            assert resolve_skill(spelling) is None, spelling
            assert skill_id not in {h.skill_id for h in get_skill_matcher().find(f"熟悉{spelling}")}, spelling


def test_matching_is_case_and_width_insensitive() -> None:
    assert found("ｐｙｔｈｏｎ and PYTHON") == [("python", "ｐｙｔｈｏｎ"), ("python", "PYTHON")]


def test_longest_match_wins() -> None:
    assert found("Spring Boot and Spring Cloud") == [("spring_boot", "Spring Boot"), ("spring_cloud", "Spring Cloud")]
    assert found("ES6") == [("javascript", "ES6")]


def test_case_sensitive_aliases() -> None:
    assert found("let's go, Go is great") == [("golang", "Go")]
    assert found("熟悉go和excel") == [("golang", "go"), ("excel", "excel")]  # glued to Chinese
    assert found("I excel at sales") == []
    assert found("Excel, R and SW") == [("excel", "Excel"), ("r_lang", "R"), ("solidworks", "SW")]


def test_blockers_suppress_false_hits() -> None:
    assert found("负责C端产品，B/S架构") == []
    assert found("C/C++开发") == [("c_lang", "C"), ("cpp", "C++")]
    assert found("English Literature") == []


def test_plural_aliases() -> None:
    assert found("ran A/B tests and wrote unit tests") == [("ab_testing", "A/B tests"), ("unit_testing", "unit tests")]


def test_skill_key() -> None:
    assert skill_key(" Spring_Boot ") == skill_key("ｓｐｒｉｎｇ boot") == "springboot"
