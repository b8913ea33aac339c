"""docs/scenarios.md stays in step with the registry and the schema."""

from __future__ import annotations

from pathlib import Path

from mxgw_runner.plugins import default_registry
from mxgw_runner.schema import QUALITY_NAMES, build_scenario_schema

DOC = (Path(__file__).resolve().parents[2] / "docs" / "scenarios.md").read_text(encoding="utf-8")


def test_every_step_is_documented() -> None:
    missing = [name for name in default_registry().names() if f"| `{name}`" not in DOC]
    assert not missing


def test_every_top_level_key_and_quality_name_is_documented() -> None:
    schema = build_scenario_schema(default_registry())
    assert [k for k in schema["properties"] if f"`{k}`" not in DOC] == []
    assert [q for q in QUALITY_NAMES if f"`{q}`" not in DOC] == []
