"""docs/plugins.md stays in step with the hook specs, the shared definitions and the
simulator's steps."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from mxgw_runner import hookspecs
from mxgw_runner.schema import SHARED_DEFS
from mxgw_sim.runner_steps import step_types

DOC = (Path(__file__).resolve().parents[2] / "docs" / "plugins.md").read_text(encoding="utf-8")


def _hooks() -> list[str]:
    return [name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction)]


def test_every_hook_is_in_the_table_and_says_when_and_what() -> None:
    assert len(_hooks()) == 6
    for name in _hooks():
        assert f"| `{name}(" in DOC, name
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert re.search(r"\b(called|runs?)\b", doc, re.IGNORECASE), name
        assert re.search(r"\breturn", doc, re.IGNORECASE), name


def test_every_shared_definition_is_named() -> None:
    assert [name for name in SHARED_DEFS if f"`{name}`" not in DOC] == []


def test_every_sim_step_is_documented_with_its_keys() -> None:
    for step_type in step_types():
        row = next(
            (line for line in DOC.splitlines() if line.startswith(f"| `{step_type.name}`")), None
        )
        assert row is not None, step_type.name
        keys = set(step_type.schema.get("properties", {})) - {"control"}
        body = re.split(r"(?<!\\)\|", row)[2]
        assert [key for key in keys if key not in body] == [], step_type.name
