"""Secret: a decrypted value never turns into text by accident."""

from __future__ import annotations

import copy
import json
import logging
import pickle

import pytest

from policies import Secret

VALUE = "13812345678"


def test_every_text_conversion_prints_stars() -> None:
    s = Secret(VALUE)
    rendered = [
        str(s),
        repr(s),
        f"{s}",
        f"{s!r}",
        f"{s!s}",
        f"{s!a}",
        f"{s:>20}",
        f"{s:d}",
        format(s, ""),
        "%s %r" % (s, s),  # noqa: UP031 - the old style is what logging uses
        "{}".format(s),  # noqa: UP032
        str([s, {"phone": s}, (s,)]),
        repr({"phone": s}),
    ]
    for text in rendered:
        assert VALUE not in text
        assert "***" in text
    assert str(s) == repr(s) == "***"


def test_logging_never_shows_the_value(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.policies.secret")
    s = Secret(VALUE)
    with caplog.at_level(logging.DEBUG, logger="tests.policies.secret"):
        logger.debug("phone=%s repr=%r", s, s)
        logger.info("dict %s", {"phone": s})
        logger.warning(s)
        try:
            raise ValueError(f"could not deliver to {s}")
        except ValueError:
            logger.exception("failed for %s", s)
    assert caplog.records
    assert VALUE not in caplog.text
    for record in caplog.records:
        assert VALUE not in record.getMessage()


def test_json_refuses_a_secret() -> None:
    with pytest.raises(TypeError):
        json.dumps({"phone": Secret(VALUE)})


def test_pickle_refuses_a_secret() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(Secret(VALUE))
    with pytest.raises(TypeError):
        pickle.dumps({"nested": [Secret(VALUE)]})


def test_reveal_returns_the_value() -> None:
    assert Secret(VALUE).reveal() == VALUE
    assert Secret("").reveal() == ""
    assert Secret("a\x00😀").reveal() == "a\x00😀"


def test_equality_and_hash_go_by_value() -> None:
    assert Secret(VALUE) == Secret(VALUE)
    assert Secret(VALUE) != Secret("13812345679")
    assert hash(Secret(VALUE)) == hash(Secret(VALUE))
    assert len({Secret("a"), Secret("a"), Secret("b")}) == 2
    assert Secret("张伟") == Secret("张伟")  # non-ASCII compares in constant time too
    assert Secret("\ud800") == Secret("\ud800")
    # A Secret never equals plain text: comparing needs an explicit reveal().
    assert Secret(VALUE) != VALUE
    assert VALUE != Secret(VALUE)


def test_secret_is_not_a_str_and_is_immutable() -> None:
    s = Secret(VALUE)
    assert not isinstance(s, str)
    with pytest.raises(AttributeError):
        s._value = "other"
    with pytest.raises(AttributeError):
        del s._value
    with pytest.raises(AttributeError):
        s.__dict__
    assert copy.copy(s) is s
    assert copy.deepcopy({"k": s})["k"] is s
    with pytest.raises(TypeError):
        Secret(b"bytes")  # type: ignore[arg-type]


def test_truthiness_follows_the_value() -> None:
    assert Secret("x")
    assert not Secret("")
