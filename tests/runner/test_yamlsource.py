"""The marked YAML reader: locations, safety limits, and no traceback on any input."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mxgw_runner import yamlsource
from mxgw_runner.errors import ScenarioError
from mxgw_runner.loader import check_scenario
from mxgw_runner.yamlsource import MAX_DEPTH, Mark, parse_yaml

LOADERS = {"python": yamlsource._PyLoader, "libyaml": yamlsource._Loader}


@pytest.fixture(autouse=True, params=sorted(LOADERS))
def event_source(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run every test with libyaml events (when installed) and with the pure-Python fallback."""
    monkeypatch.setattr(yamlsource, "_Loader", LOADERS[request.param])
    return str(request.param)


def test_marks_for_every_node_and_key() -> None:
    doc = parse_yaml("a: 1\nb:\n  - x\n  - {c: true}\n", "f.yaml")
    assert doc.data == {"a": 1, "b": ["x", {"c": True}]}
    assert doc.marks["/a"] == Mark(1, 4)
    assert doc.marks["/b/0"] == Mark(3, 5)
    assert doc.marks["/b/1/c"] == Mark(4, 9)
    assert doc.key_marks["/b/1/c"] == Mark(4, 6)
    assert doc.locate("/b/1/c/missing") == Mark(4, 9)


def test_keys_with_slashes_and_tildes_are_escaped() -> None:
    doc = parse_yaml("a/b: {c~d: 1}\n", "f")
    assert doc.marks["/a~1b/c~0d"] == Mark(1, 12)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes", "yes"),
        ("on", "on"),
        ("No", "No"),
        ("true", True),
        ("False", False),
        ("1:30", "1:30"),
        ("2026-01-01", "2026-01-01"),
        ("010", 10),
        ("0x1F", 31),
        ("1e3", 1000.0),
        ("-1.5", -1.5),
        (".inf", float("inf")),
        ("~", None),
        ("", None),
        ("'42'", "42"),
    ],
)
def test_plain_scalars_follow_yaml_1_2(text: str, value: object) -> None:
    assert parse_yaml(f"v: {text}\n", "f").data == {"v": value}


def test_aliases_within_the_bound_are_expanded() -> None:
    doc = parse_yaml("base: &b {item: sp}\ncopy: *b\n", "f")
    assert doc.data["copy"] == {"item": "sp"}


def test_merge_keys_are_refused() -> None:
    with pytest.raises(ScenarioError, match="merge keys"):
        parse_yaml("a: &a {x: 1}\nb: {<<: *a}\n", "f")


def test_nesting_limit() -> None:
    with pytest.raises(ScenarioError, match=f"deeper than {MAX_DEPTH}"):
        parse_yaml("[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5), "f")
    text = "a:\n" + "".join("  " * i + "b:\n" for i in range(1, MAX_DEPTH + 3))
    with pytest.raises(ScenarioError, match="deeper"):
        parse_yaml(text, "f")


def test_recursive_alias_is_refused_not_a_crash() -> None:
    with pytest.raises(ScenarioError):
        parse_yaml("a: &a [*a]\n", "f")


def test_complex_keys_are_refused() -> None:
    with pytest.raises(ScenarioError, match="key must be a plain name"):
        parse_yaml("? [a, b]\n: 1\n", "f")


def test_deep_flow_nesting_is_refused_quickly() -> None:
    with pytest.raises(ScenarioError, match="nest"):
        parse_yaml("[" * 200_000, "f")


def test_control_characters_are_located() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_yaml("a: 1\nb: x\x01y\n", "f")
    (d,) = info.value.diagnostics
    assert d.line == 2 and "not allowed" in d.message


def test_more_than_one_document_is_refused() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_yaml("a: 1\n---\nb: 2\n", "f")
    assert info.value.diagnostics[0].line == 2


_yamlish = st.text(
    alphabet=st.sampled_from(list("ab:-[]{}&*!?|>'\"#%@`,\n\t $\\.0123456789~<")),
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(_yamlish)
def test_property_parser_never_raises_anything_but_scenario_error(text: str) -> None:
    try:
        parse_yaml(text, "f")
    except ScenarioError as exc:
        for d in exc.diagnostics:
            assert d.message
            assert d.line is None or d.line >= 1


@settings(max_examples=150, deadline=None)
@given(_yamlish)
def test_property_loader_never_tracebacks(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path: Path = tmp_path_factory.mktemp("fuzz") / "s.yaml"
    path.write_text("steps:\n  - " + text, encoding="utf-8")
    scenario, diagnostics = check_scenario(path, env={})
    assert (scenario is None) == bool(diagnostics)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=60))
def test_property_loader_survives_arbitrary_bytes(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path: Path = tmp_path_factory.mktemp("bytes") / "s.yaml"
    path.write_bytes(data)
    scenario, diagnostics = check_scenario(path, env={})
    assert scenario is None or not diagnostics
