"""The scenario schema: built from the registry, published, and usable by editors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from mxgw_runner.errors import PluginError
from mxgw_runner.plugins import default_registry
from mxgw_runner.schema import build_scenario_schema
from mxgw_runner.schemas import load_packaged
from mxgw_runner.steptypes import StepRegistry, StepType

ROOT = Path(__file__).resolve().parents[2]

BUILTIN = {
    "open-session",
    "register",
    "add-item",
    "advise",
    "authenticate",
    "write",
    "expect-event",
    "expect-no-event",
    "read",
    "unadvise",
    "remove-item",
    "unregister",
    "close-session",
    "wait",
    "for-each",
    "include",
    "confirm",
    "check-items",
}


def test_every_builtin_step_is_registered() -> None:
    assert set(default_registry().names()) == BUILTIN


def test_published_schema_is_valid_draft_2020_12_and_up_to_date() -> None:
    schema = load_packaged("scenario.schema.json")
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema == build_scenario_schema(default_registry())
    assert json.loads((ROOT / "schemas" / "scenario.schema.json").read_text()) == schema
    report = load_packaged("report.schema.json")
    jsonschema.Draft202012Validator.check_schema(report)
    assert json.loads((ROOT / "schemas" / "report.schema.json").read_text()) == report


def test_export_tool_check_passes_on_the_committed_files() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "export_schemas.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


EXAMPLE = """
version: 1
name: example
vars: {sp: 42.5}
timeouts: {step: 10s}
steps:
  - open-session: {client-session-name: ck}
  - register: {}
  - add-item: {item: Pump101.Speed.SP, as: sp}
  - advise: {items: [sp], supervisory: true}
  - authenticate: {user: op, password-env: OP_PW}
  - write: {item: sp, value: "${sp}", type: float, expect: ok, restore: true}
  - expect-event:
      item: sp
      data-change:
        value: [1, {approx: 2, rel: 0.1}]
        quality: {class: bad, substatus: out-of-service}
        status: {category: OperationalError, detected-by: RespondingAutomationObject}
        timestamp: {max-age: 5s, after: step-start}
      mode: next
      count: 2
      since: last-write
      within: 250ms
    name: checks
    timeout: 1m
  - expect-no-event: {item: sp, for: 2s, write-complete: {}}
  - read: {item: sp, save: before}
  - for-each: {items: [1, 2], steps: [{wait: 1s}]}
  - include: {file: other.yaml, vars: {a: 1}}
  - confirm: Is the pump running?
  - unadvise: sp
  - remove-item: sp
  - unregister: {}
  - wait: 1h
  - close-session:
"""


def test_editor_schema_accepts_a_full_example() -> None:
    schema = load_packaged("scenario.schema.json")
    jsonschema.Draft202012Validator(schema).validate(yaml.safe_load(EXAMPLE))


@pytest.mark.parametrize(
    "step",
    [
        {"expect-evnt": {"item": "x"}},
        {"write": {"item": "x"}},
        {"wait": "soon"},
        {"wait": "1s", "read": "x"},
        {"advise": {"items": ["x"], "supervisry": True}},
    ],
)
def test_editor_schema_rejects_bad_steps(step: dict[str, object]) -> None:
    schema = load_packaged("scenario.schema.json")
    assert not jsonschema.Draft202012Validator(schema).is_valid({"steps": [step]})


def test_plugin_steps_are_merged_into_the_schema() -> None:
    registry = StepRegistry()
    registry.add(
        StepType(
            "set-quality",
            {
                "type": "object",
                "properties": {"item": {"type": "string"}, "quality": {"$ref": "#/$defs/quality"}},
                "required": ["item", "quality"],
                "additionalProperties": False,
            },
        ),
        "sim",
    )
    schema = build_scenario_schema(registry)
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"steps": [{"set-quality": {"item": "a", "quality": "bad"}}]})
    assert not validator.is_valid({"steps": [{"set-quality": {"item": "a", "quality": "meh"}}]})


def test_registry_refuses_clashes_naming_both_plugins() -> None:
    registry = StepRegistry()
    registry.add(StepType("wait", {}), "mxgw_runner.steps")
    with pytest.raises(PluginError, match=r"'other' registers step 'wait'.*'mxgw_runner\.steps'"):
        registry.add(StepType("wait", {}), "other")
    with pytest.raises(PluginError, match="reserved"):
        registry.add(StepType("name", {}), "other")
