"""Packaged JSON schemas: the scenario schema (built from the step registry) and the report's."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

SCENARIO_SCHEMA_FILE = "scenario.schema.json"
REPORT_SCHEMA_FILE = "report.schema.json"


def load_packaged(name: str) -> dict[str, Any]:
    """A schema shipped in this package, parsed."""
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def render(schema: dict[str, Any]) -> str:
    """Canonical text of a schema file (sorted keys, 2-space indent, trailing newline)."""
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
