"""Report writers: console (streaming), JSON, JUnit XML and the HTML record (after the run).

Writers read :mod:`mxgw_runner.results` only, mask secrets through a
:class:`~mxgw_runner.redact.Redactor`, and write files atomically. Plugins add
writers through the ``mxgw_report_writers`` hook with objects that follow
:class:`ReportWriter`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from mxgw_runner.redact import Redactor
from mxgw_runner.results import RunResult


class ReportWriter(Protocol):
    """A report format written after the run (``--report-<name> FILE``)."""

    @property
    def name(self) -> str:
        """Option suffix: ``json`` gives ``--report-json FILE``."""
        ...

    @property
    def description(self) -> str:
        """One line for ``--help``."""
        ...

    def write(self, run: RunResult, path: Path, redactor: Redactor) -> None:
        """Write the report for ``run`` to ``path`` (atomically, secrets masked)."""
        ...


def builtin_writers() -> list[ReportWriter]:
    """The JSON, JUnit and HTML (commissioning record) writers."""
    from mxgw_runner.reports.html import HtmlReportWriter
    from mxgw_runner.reports.json_report import JsonReportWriter
    from mxgw_runner.reports.junit import JUnitReportWriter

    return [JsonReportWriter(), JUnitReportWriter(), HtmlReportWriter()]


__all__ = ["ReportWriter", "builtin_writers"]
