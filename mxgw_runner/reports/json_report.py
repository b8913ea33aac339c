"""The JSON report (``--report-json``), valid against ``schemas/report.schema.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mxgw_runner.atomicio import atomic_write_text
from mxgw_runner.redact import Redactor
from mxgw_runner.results import RunResult

REPORT_SCHEMA_RESOURCE = "report.schema.json"


def report_data(run: RunResult, redactor: Redactor | None = None) -> dict[str, Any]:
    """The report as JSON-ready data, secrets masked."""
    data = run.to_dict()
    if redactor:
        masked: dict[str, Any] = redactor.data(data)
        return masked
    return data


def render_json(run: RunResult, redactor: Redactor | None = None) -> str:
    """The report as JSON text (UTF-8, indented, stable key order)."""
    return json.dumps(report_data(run, redactor), indent=2, ensure_ascii=False) + "\n"


def write_json_report(run: RunResult, path: Path | str, redactor: Redactor | None = None) -> None:
    """Write the JSON report atomically."""
    atomic_write_text(path, render_json(run, redactor))


class JsonReportWriter:
    """``--report-json FILE``."""

    name = "json"
    description = "write a JSON report (schema: schemas/report.schema.json)"

    def write(self, run: RunResult, path: Path, redactor: Redactor) -> None:
        """Write the JSON report."""
        write_json_report(run, path, redactor)
