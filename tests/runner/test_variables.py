"""Variables: syntax, typing of whole references, escapes, env, secrets."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mxgw_runner.variables import (
    RowShape,
    TemplateError,
    VariableError,
    check,
    parse_scalar,
    parse_template,
    resolve,
    split_assignment,
)

VARS: dict[str, Any] = {
    "sp": 42.5,
    "n": 3,
    "flag": True,
    "name": "Pump101",
    "row": {"tag": "Pump101.SP", "limits": [1, 2]},
    "nothing": None,
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${sp}", 42.5),
        ("${n}", 3),
        ("${flag}", True),
        ("${nothing}", None),
        ("${row}", {"tag": "Pump101.SP", "limits": [1, 2]}),
        ("${row.tag}", "Pump101.SP"),
        ("${row.limits.1}", 2),
        ("sp=${sp}", "sp=42.5"),
        ("${name}.Speed.SP", "Pump101.Speed.SP"),
        ("${flag}/${nothing}", "true/null"),
        ("$${sp}", "${sp}"),
        ("cost: $5 and $${literal} and ${n}", "cost: $5 and ${literal} and 3"),
        ("no references", "no references"),
        ("${env:HOME_DIR}", "/home/op"),
        ("${env:PORT}", 5000),  # a whole env reference is a YAML scalar
        ("port ${env:PORT}", "port 5000"),
        ("${env:MISSING:-fallback}", "fallback"),
        ("${env:MISSING:-}", ""),
        ("${env:MISSING:-2.5}", 2.5),
        ("${env:MISSING:-a:b}", "a:b"),
    ],
)
def test_resolution(template: str, expected: Any) -> None:
    env = {"HOME_DIR": "/home/op", "PORT": "5000"}
    assert resolve(template, VARS, env) == expected


def test_resolution_walks_containers_without_touching_the_input() -> None:
    params = {"item": "${row.tag}", "value": {"approx": "${sp}", "tolerance": 0.5}, "l": ["${n}"]}
    out = resolve(params, VARS, {})
    assert out == {"item": "Pump101.SP", "value": {"approx": 42.5, "tolerance": 0.5}, "l": [3]}
    assert params["item"] == "${row.tag}"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("${spp}", "unknown variable ${spp} — did you mean 'sp'?"),
        ("${row.tga}", "${row.tga}: row has no key 'tga' — did you mean 'tag'?"),
        ("${sp.x}", "${sp.x}: sp has no keys (it is not a mapping)"),
        ("${row.limits.5}", "${row.limits.5}: row.limits has only 2 entries"),
        ("${env:NOPE}", "environment variable NOPE is not set (in ${env:NOPE})"),
        ("${sp", "unterminated ${ in '${sp'"),
        ("${1abc}", "bad variable reference ${1abc}"),
        ("${env:}", "bad environment reference ${env:}"),
        ("${}", "bad variable reference ${}"),
    ],
)
def test_errors_are_clear(template: str, message: str) -> None:
    with pytest.raises(VariableError) as info:
        resolve({"a": [template]}, VARS, {})
    assert info.value.message.startswith(message)
    assert info.value.pointer == "/a/0"


def test_secret_env_values_are_collected() -> None:
    secrets: set[str] = set()
    assert resolve("${secret-env:PW}", {}, {"PW": "hunter22"}, secrets=secrets) == "hunter22"
    assert secrets == {"hunter22"}


def test_messages_never_contain_values() -> None:
    with pytest.raises(VariableError) as info:
        resolve("${password.x}", {"password": "hunter22"}, {})
    assert "hunter22" not in info.value.message


def test_static_check_collects_every_problem() -> None:
    problems = check(
        {"a": "${row.x}", "b": "${nope}", "c": "${env:NOPE}", "d": "${bad", "e": "${ok}"},
        {"row": RowShape(frozenset({"tag"})), "ok": 1},
        {},
    )
    assert [p.pointer for p in problems] == ["/a", "/b", "/c", "/d"]
    assert isinstance(problems[3], TemplateError)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42.5", 42.5),
        ("42", 42),
        ("true", True),
        ("yes", "yes"),  # YAML 1.2: only true/false are booleans
        ("1:30", "1:30"),
        ("abc", "abc"),
        ("", ""),
        ("null", None),
        ("[1, 2]", "[1, 2]"),
        ("a: b", "a: b"),
        (" 5", " 5"),
        ("0x10", 16),
        ("1e3", 1000.0),
    ],
)
def test_parse_scalar(text: str, value: Any) -> None:
    assert parse_scalar(text) == value
    assert type(parse_scalar(text)) is type(value)


def test_split_assignment() -> None:
    assert split_assignment("sp=42.5") == ("sp", 42.5)
    assert split_assignment("url=http://x/?a=b") == ("url", "http://x/?a=b")
    with pytest.raises(VariableError):
        split_assignment("=5")


_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
_literal = st.text(st.characters(blacklist_characters="$"), max_size=20)


@given(st.lists(st.one_of(_literal, _names.map(lambda n: ("ref", n))), max_size=6))
def test_property_interpolation_matches_concatenation(parts: list[Any]) -> None:
    values = {}
    template = ""
    expected = ""
    for i, part in enumerate(parts):
        if isinstance(part, tuple):
            name = part[1]
            values.setdefault(name, f"v{i}")
            template += "${" + name + "}"
            expected += values[name]
        else:
            template += part
            expected += part
    assert resolve(template, values, {}) == expected


@given(st.text(max_size=60))
def test_property_any_text_resolves_or_raises_a_variable_error(text: str) -> None:
    try:
        out = resolve(text, {"a": 1}, {"E": "x"})
    except VariableError:
        return
    assert isinstance(out, str | int)


@given(st.text(st.characters(blacklist_characters="$"), max_size=30))
def test_property_escaped_text_comes_back_literally(text: str) -> None:
    assert resolve(text.replace("{", "$${"), {}, {}) == text.replace("{", "${")


def test_parse_template_pieces() -> None:
    pieces = parse_template("a${b}c")
    assert pieces[0] == "a" and pieces[2] == "c"
