"""Galaxy files: the default galaxy, the schema, and every loader error located."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mxgateway import MxDataType
from mxgw_sim.galaxy import (
    Classification,
    GalaxyError,
    GalaxyRuntime,
    Permission,
    default_galaxy,
    galaxy_schema,
    load_galaxy,
    parse_galaxy,
)
from mxgw_sim.galaxy.model import Follows, Ramp, RandomWalk, Sine, Toggle

DEFAULT_FILE = Path(__file__).parents[2] / "mxgw_sim" / "galaxy" / "default_galaxy.yaml"


def errors_of(text: str) -> list[tuple[int | None, int | None, str, str]]:
    """(line, column, key path, message) of every problem in ``text``."""
    with pytest.raises(GalaxyError) as info:
        parse_galaxy(text, "g.yaml")
    assert all(d.file == "g.yaml" for d in info.value.diagnostics)
    return [(d.line, d.column, d.path, d.message) for d in info.value.diagnostics]


def test_the_schema_is_valid_draft_2020_12() -> None:
    schema = galaxy_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_the_default_galaxy_validates_against_the_published_schema() -> None:
    data = yaml.safe_load(DEFAULT_FILE.read_text("utf-8"))
    jsonschema.Draft202012Validator(galaxy_schema()).validate(data)


def test_the_default_galaxy_has_what_docs_promise() -> None:
    galaxy = default_galaxy()
    assert galaxy.security.enabled
    users = {u.name: u.permissions for u in galaxy.security.users}
    assert Permission.VERIFY in users["supervisor"]
    assert {Permission.TUNE, Permission.CONFIGURE} <= users["engineer"]
    attrs = list(galaxy.attributes())
    data_types = {a.data_type for _, a in attrs}
    assert data_types == {t for t in MxDataType if t.value > 0}
    assert any(a.is_array for _, a in attrs)
    assert {a.classification for _, a in attrs} == set(Classification)
    assert any(not a.writable for _, a in attrs)
    kinds = {type(a.behaviour) for _, a in attrs}
    assert {Ramp, Sine, Toggle, RandomWalk, Follows} <= kinds
    objects = galaxy.objects
    assert not objects["Pump103"].on_scan
    assert not objects["Tank02"].deployed
    assert not objects["Field01"].link.connected
    assert "Tank01.Inlet" in objects and objects["Tank01.Inlet"].container == "Tank01"
    assert any(a.quality == 16 for _, a in attrs)


def test_load_galaxy_without_a_path_is_the_default() -> None:
    assert load_galaxy(None) is default_galaxy()


def test_user_repr_hides_the_password() -> None:
    user = default_galaxy().security.user("operator")
    assert user is not None
    assert "operator1" not in repr(user)


def test_a_minimal_galaxy_and_its_defaults() -> None:
    galaxy = parse_galaxy(
        "version: 1\nareas:\n  - name: A\n    objects:\n      - name: O\n"
        "        attributes:\n          - {name: X, type: double}\n"
        "          - {name: Arr, type: 'integer[]', length: 3}\n"
        "          - {name: E, type: elapsed-time, value: 1m30s}\n"
    )
    assert not galaxy.security.enabled
    attr = galaxy.objects["O"].attributes["X"]
    assert (attr.value, attr.quality, attr.writable) == (0.0, 192, True)
    assert attr.classification is Classification.FREE_ACCESS
    assert galaxy.objects["O"].attributes["Arr"].value == [0, 0, 0]
    assert galaxy.objects["O"].attributes["E"].value.total_seconds() == 90
    assert galaxy.settings.timestamps == "utc"


def test_schema_errors_are_located_and_all_reported() -> None:
    text = """version: 1
settings:
  timestamp: utc
  first-event-delay: soon
areas:
  - name: A
    objects:
      - name: P
        attributes:
          - {name: X, type: integr}
          - {name: T, type: double, behaviour: wobble}
          - {name: S, type: double, behaviour: {toggle: {period: 1}, static: {}}}
          - {name: R, type: double, behaviour: {ramp: {min: 0, period: 1s}}}
          - {type: double}
"""
    found = errors_of(text)
    assert found[0] == (
        3,
        3,
        "settings.timestamp",
        "unknown key 'timestamp' (did you mean 'timestamps'?)",
    )
    assert found[1][:3] == (4, 22, "settings.first-event-delay")
    assert "not a duration" in found[1][3]
    assert found[2][:3] == (10, 29, "areas[0].objects[0].attributes[0].type")
    assert "did you mean 'integer'" in found[2][3]
    assert found[3][:3] == (11, 48, "areas[0].objects[0].attributes[1].behaviour")
    assert found[4][:3] == (12, 48, "areas[0].objects[0].attributes[2].behaviour")
    assert "exactly one key" in found[4][3]
    assert found[5][:3] == (13, 55, "areas[0].objects[0].attributes[3].behaviour.ramp")
    assert found[5][3] == "missing required key 'max'"
    assert found[6] == (14, 13, "areas[0].objects[0].attributes[4]", "missing required key 'name'")
    assert len(found) == 7


def test_model_errors_are_located() -> None:
    text = """version: 1
security:
  users:
    - {name: op, password: hunter2}
    - {name: OP, password: hunter3}
areas:
  - name: A
    objects:
      - name: P
        attributes:
          - {name: Y, type: double, behaviour: {ramp: {min: 5, max: 1, period: 10s}}}
          - {name: Z, type: string, behaviour: {sine: {amplitude: 1, period: 1s}}}
          - {name: W, type: "integer[]", length: 2, value: [1, 2, 3]}
          - {name: V, type: integer, value: abc}
          - {name: U, type: double, behaviour: {follows: {source: P.Nope}}}
          - {name: u, type: double}
          - {name: N, type: "double[]"}
          - {name: L, type: double, length: 3}
          - {name: B, type: boolean, behaviour: {ramp: {min: 0, max: 1, period: 1s}}}
      - name: P
      - name: Q
        attributes:
          - {name: A, type: double, behaviour: {follows: {source: Q.B}}}
          - {name: B, type: double, behaviour: {follows: {source: Me.A}}}
"""
    found = errors_of(text)
    by_line = {line: (column, path, message) for line, column, path, message in found}
    assert by_line[5] == (14, "security.users[1].name", "user 'OP' is already defined (users[0])")
    assert by_line[11][2] == "max must be greater than min"
    assert "sine needs an integer, float or double attribute" in by_line[12][2]
    assert by_line[13][2] == "the value has 3 elements but length is 2"
    assert "invalid initial value" in by_line[14][2]
    assert by_line[15][1].endswith("behaviour.follows.source")
    assert "cannot follow 'P.Nope'" in by_line[15][2]
    assert "already defined on P" in by_line[16][2]
    assert "needs 'length'" in by_line[17][2]
    assert "only for arrays" in by_line[18][2]
    assert "ramp needs" in by_line[19][2]
    assert by_line[20][2] == "object 'P' is already defined (first defined at line 9)"
    assert "cycle" in by_line[23][2] and "cycle" in by_line[24][2]
    assert all("hunter" not in message for *_, message in found)


def test_yaml_level_errors_are_located() -> None:
    found = errors_of("version: 1\nareas: []\nareas: []\n")
    assert found == [(3, 1, "areas", "duplicate key 'areas' (first defined at line 2)")]
    found = errors_of("version: 1\nareas: [\n")
    assert found[0][0] is not None


def test_wrong_types_and_missing_top_level_keys() -> None:
    found = errors_of("version: 2\nsecurity: {enabled: yes}\n")
    messages = {path: message for _, _, path, message in found}
    assert messages["version"] == "must be 1"
    assert "is not of type 'boolean'" in messages["security.enabled"]
    assert messages[""] == "missing required key 'areas'"


def test_a_bad_password_type_does_not_echo_it() -> None:
    found = errors_of("version: 1\nsecurity: {users: [{name: a, password: 12345678}]}\nareas: []\n")
    assert found == [(2, 40, "security.users[0].password", "the password must be a string")]


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(GalaxyError, match="empty"):
        load_galaxy(empty)
    with pytest.raises(GalaxyError, match="file not found"):
        load_galaxy(tmp_path / "missing.yaml")


def test_schema_file_is_json_and_ships_in_the_package() -> None:
    path = Path(__file__).parents[2] / "mxgw_sim" / "schemas" / "galaxy.schema.json"
    assert json.loads(path.read_text("utf-8")) == galaxy_schema()


def test_periods_and_update_rates_must_be_longer_than_zero() -> None:
    text = """version: 1
settings: {update-rate: 0s}
areas:
  - name: A
    attributes:
      - {name: R, type: double, update-rate: 0ms, behaviour: {ramp: {min: 0, max: 1, period: 0s}}}
"""
    assert errors_of(text) == [
        (2, 25, "settings.update-rate", "'0s' must be longer than 0"),
        (6, 46, "areas[0].attributes[0].update-rate", "'0ms' must be longer than 0"),
        (6, 94, "areas[0].attributes[0].behaviour.ramp.period", "'0s' must be longer than 0"),
    ]


@given(st.text(max_size=200))
@settings(max_examples=100, deadline=None)
def test_any_text_is_a_galaxy_or_a_located_error(text: str) -> None:
    try:
        parse_galaxy("version: 1\nareas:\n  - name: A\n    attributes:\n" + text, "g.yaml")
    except GalaxyError as exc:
        assert exc.diagnostics and all(d.file == "g.yaml" for d in exc.diagnostics)


ATTRIBUTE_FIELDS = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["X", "Y.Z", "bad name", ""]),
        "type": st.sampled_from(["double", "integer[]", "boolean", "time", "nope"]),
    },
    optional={
        "value": st.one_of(
            st.integers(),
            st.floats(),
            st.text(max_size=5),
            st.none(),
            st.lists(st.integers(), max_size=3),
        ),
        "length": st.integers(min_value=-1, max_value=4),
        "behaviour": st.one_of(
            st.just("static"),
            st.fixed_dictionaries(
                {
                    "ramp": st.fixed_dictionaries(
                        {
                            "min": st.integers(),
                            "max": st.integers(),
                            "period": st.sampled_from(["1s", "0s", 5, "x"]),
                        }
                    )
                }
            ),
            st.fixed_dictionaries(
                {
                    "follows": st.fixed_dictionaries(
                        {"source": st.sampled_from(["O.X", "Me.X", "O.Nope", "O.X[1]"])}
                    )
                }
            ),
        ),
        "security": st.sampled_from(["Operate", "ViewOnly", "Bogus"]),
    },
)


@given(st.lists(ATTRIBUTE_FIELDS, max_size=4))
@settings(max_examples=100, deadline=None)
def test_generated_attributes_load_or_fail_with_located_errors(attrs: list[dict[str, Any]]) -> None:
    text = json.dumps(
        {"version": 1, "areas": [{"name": "A", "objects": [{"name": "O", "attributes": attrs}]}]}
    )
    try:
        galaxy = parse_galaxy(text, "g.yaml")
    except GalaxyError as exc:
        assert all(d.line is not None for d in exc.diagnostics), exc.diagnostics
    else:
        GalaxyRuntime(galaxy)  # whatever loads, runs
