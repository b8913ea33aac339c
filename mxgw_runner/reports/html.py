"""The HTML commissioning record (``--report-html``): one printable, self-contained page.

The page is the paper trail of a commissioning run: who ran what against which
gateway and when (UTC and local time), a verdict and a summary per scenario, every
check with what was expected and observed, the event timeline of each failure,
the cleanup actions, and lines for the performer and a witness to sign. It loads
nothing: the stylesheet is inline, there is no script, and a Content-Security-Policy
forbids every other resource. Every text is masked through the redactor and then
HTML-escaped, since scenario names and values are user input.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from mxgw_runner.atomicio import atomic_write_text
from mxgw_runner.exitcodes import ExitCode, exit_code_for
from mxgw_runner.matching import ObservedEvent, format_value, quality_name
from mxgw_runner.redact import Redactor
from mxgw_runner.reports.console import format_ms
from mxgw_runner.reports.html_style import stylesheet
from mxgw_runner.results import (
    CleanupResult,
    Outcome,
    RunResult,
    ScenarioResult,
    StepResult,
    json_value_deep,
    safe_endpoint,
)

#: Labels shown for each outcome (text, so that a black-and-white print reads the same).
LABELS: dict[Outcome, str] = {
    Outcome.PASSED: "PASS",
    Outcome.FAILED: "FAIL",
    Outcome.ERROR: "ERROR",
    Outcome.SKIPPED: "SKIPPED",
    Outcome.INTERRUPTED: "INTERRUPTED",
}

_VERDICTS: dict[ExitCode, tuple[str, str]] = {
    ExitCode.PASSED: ("passed", "PASS: every check passed"),
    ExitCode.CHECK_FAILED: ("failed", "FAIL: some checks did not hold"),
    ExitCode.INFRASTRUCTURE: ("error", "ERROR: some checks could not be made"),
    ExitCode.CLEANUP_FAILED: ("error", "PASS, but some cleanup actions failed"),
    ExitCode.SIGINT: ("interrupted", "INTERRUPTED: the results are incomplete"),
    ExitCode.SIGTERM: ("interrupted", "INTERRUPTED: the results are incomplete"),
}

# Code points HTML may not carry (controls other than tab/newline/CR, surrogates, noncharacters).
_INVALID_HTML = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
)
_FAILING = (Outcome.FAILED, Outcome.ERROR, Outcome.INTERRUPTED)
_NONE = "—"


def _offset(value: datetime) -> str:
    delta = value.utcoffset()
    minutes = int(delta.total_seconds() // 60) if delta is not None else 0
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class _Page:
    """Builds the page text; every piece of user text goes through :meth:`esc`."""

    def __init__(self, redactor: Redactor | None, local_tz: tzinfo | None) -> None:
        self.redactor = redactor
        self.local_tz = local_tz
        self.out: list[str] = []

    # ------------------------------------------------------------------ text

    def esc(self, value: object) -> str:
        """Masked, cleaned of characters HTML cannot carry, and escaped."""
        text = value if isinstance(value, str) else str(value)
        if self.redactor:
            text = self.redactor.text(text)
        return html.escape(_INVALID_HTML.sub("\ufffd", text), quote=True)

    def name(self, value: object) -> str:
        """Like :meth:`esc`, with line-break opportunities after the dots of item names."""
        return self.esc(value).replace(".", ".<wbr>")

    def value(self, value: Any) -> str:
        """A process value as the runner shows it (strings quoted), masked and escaped."""
        if self.redactor:
            value = self.redactor.data(value)
        return f'<span class="mono">{self.esc(format_value(value))}</span>'

    def utc(self, value: datetime | None) -> str:
        """``2026-11-26 19:00:00.000 UTC``."""
        if value is None:
            return _NONE
        text = _aware(value).astimezone(UTC).isoformat(sep=" ", timespec="milliseconds")
        day, time = text.removesuffix("+00:00").split(" ", 1)
        return (
            f'<span class="nw">{self.esc(day)}</span> <span class="nw">{self.esc(time)}</span> UTC'
        )

    def local(self, value: datetime | None) -> str:
        """``2026-11-26 20:00:00 CET (UTC+01:00)`` in the reader's (or the given) time zone."""
        if value is None:
            return _NONE
        here = _aware(value).astimezone(self.local_tz)
        name = here.tzname() or ""
        zone = (
            f"{name} ({_offset(here)})"
            if name and not name.startswith(("UTC", "+", "-"))
            else (_offset(here))
        )
        return self.esc(f"{here.strftime('%Y-%m-%d %H:%M:%S')} {zone}")

    def badge(self, outcome: Outcome) -> str:
        return f'<span class="badge s-{outcome.value}">{LABELS[outcome]}</span>'

    def add(self, *parts: str) -> None:
        self.out.extend(parts)

    def facts(self, caption: str | None, rows: Iterable[tuple[str, str]], cls: str = "") -> None:
        """A two-column table of row headers and (already escaped) values."""
        self.add(f'<table class="facts{cls}">')
        if caption:
            self.add(f"<caption>{self.esc(caption)}</caption>")
        for key, shown in rows:
            self.add(f'<tr><th scope="row">{self.esc(key)}</th><td>{shown}</td></tr>')
        self.add("</table>")

    def head(self, *columns: tuple[str, int, str]) -> None:
        """Column headers: title, width in percent of the table (fixed layout), classes."""
        cells = "".join(
            f'<th scope="col" class="{f"w{width} {cls}".strip()}">{self.esc(title)}</th>'
            for title, width, cls in columns
        )
        self.add(f"<thead><tr>{cells}</tr></thead>")


def _counts(steps: Sequence[StepResult]) -> dict[Outcome, int]:
    counts = dict.fromkeys(Outcome, 0)
    for step in steps:
        counts[step.status] += 1
    return counts


def _distinct(scenarios: Sequence[ScenarioResult], key: str) -> list[str]:
    seen: list[str] = []
    for scenario in scenarios:
        value = scenario.metadata.get(key)
        if value is not None and value != "":
            text = _meta_text(value)
            if text not in seen:
                seen.append(text)
    return seen


def _meta_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(json_value_deep(value), ensure_ascii=False)


def resolve_operator(run: RunResult, operator: str | None) -> str | None:
    """The operator named on the command line, else the first ``operator`` in metadata."""
    if operator and operator.strip():
        return operator.strip()
    found = _distinct(run.scenarios, "operator")
    return found[0] if found else None


def _title(run: RunResult) -> str:
    parts = [
        "Commissioning record",
        ", ".join(_distinct(run.scenarios, "site")),
        ", ".join(_distinct(run.scenarios, "checklist")),
    ]
    return " — ".join(p for p in parts if p)


def render_html(
    run: RunResult,
    redactor: Redactor | None = None,
    *,
    operator: str | None = None,
    local_tz: tzinfo | None = None,
) -> str:
    """The commissioning record as HTML text.

    ``operator`` (``--operator``) overrides an ``operator`` in the scenarios' metadata.
    ``local_tz`` is the zone of the "local" times; the machine's own zone by default.
    """
    page = _Page(redactor, local_tz)
    css = stylesheet()
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    csp = f"default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    title = _title(run)
    page.add(
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="mxgw-run {page.esc(run.tool_version)}">',
        f"<title>{page.esc(title)}</title>",
        f"<style>{css}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{page.esc(title)}</h1>",
        '<p class="subtitle">MXAccess Gateway scenario run recorded by mxgw-run '
        f"{page.esc(run.tool_version)}</p>",
        "</header>",
        "<main>",
    )
    who = resolve_operator(run, operator)
    _run_section(page, run, who)
    _summary_section(page, run)
    for number, scenario in enumerate(run.scenarios, start=1):
        _scenario_section(page, number, scenario)
    _signoff_section(page, run, who)
    page.add(
        "</main>",
        f"<footer>Generated by mxgw-run {page.esc(run.tool_version)}. Times are shown in UTC; "
        "start and end also in local time. Secrets are masked as ***.</footer>",
        "</body>",
        "</html>",
        "",
    )
    return "\n".join(page.out)


def _run_section(page: _Page, run: RunResult, operator: str | None) -> None:
    code = exit_code_for(run)
    cls, text = _VERDICTS.get(code, ("error", "ERROR"))
    page.add('<section aria-labelledby="run-h">', '<h2 id="run-h">Run</h2>')
    page.add(f'<p class="verdict s-{cls}" role="status">Result: {page.esc(text)}</p>')
    if run.interrupted_by:
        page.add(
            f'<p class="notice s-interrupted">The run was interrupted by '
            f"{page.esc(run.interrupted_by)}; checks after that point did not run.</p>"
        )
    duration = format_ms((run.end - run.start).total_seconds()) if run.end else _NONE
    gateway = run.gateway_version or _NONE
    if run.protocol_version is not None:
        gateway = f"{gateway} (protocol {run.protocol_version})"
    rows: list[tuple[str, str]] = [
        ("Site", page.esc(", ".join(_distinct(run.scenarios, "site")) or _NONE)),
        ("Checklist", page.esc(", ".join(_distinct(run.scenarios, "checklist")) or _NONE)),
        ("Operator", page.esc(operator or _NONE)),
        ("Gateway endpoint", page.esc(safe_endpoint(run.endpoint) or _NONE)),
        ("Gateway version", page.esc(gateway)),
        ("Tool", page.esc(f"mxgw-run {run.tool_version}")),
        ("Started (UTC)", page.utc(run.start)),
        ("Started (local)", page.local(run.start)),
        ("Ended (UTC)", page.utc(run.end)),
        ("Ended (local)", page.local(run.end)),
        ("Duration", page.esc(duration)),
    ]
    page.facts("Run details", rows)
    page.add("</section>")


def _summary_section(page: _Page, run: RunResult) -> None:
    page.add('<section aria-labelledby="summary-h">', '<h2 id="summary-h">Summary</h2>')
    if not run.scenarios:
        page.add("<p>No scenario ran.</p></section>")
        return
    page.add('<table class="grid">', "<caption>Checks per scenario</caption>")
    page.head(
        ("Scenario", 30, ""),
        ("Result", 11, ""),
        ("Checks", 9, "num"),
        ("Passed", 9, "num"),
        ("Failed", 9, "num"),
        ("Errors", 9, "num"),
        ("Skipped", 9, "num"),
        ("Cleanup", 14, ""),
    )
    page.add("<tbody>")
    total = dict.fromkeys(Outcome, 0)
    cleanup_total = cleanup_bad = 0
    for number, scenario in enumerate(run.scenarios, start=1):
        counts = _counts(scenario.steps)
        for key, value in counts.items():
            total[key] += value
        bad = sum(c.status in _FAILING for c in scenario.cleanup)
        cleanup_total += len(scenario.cleanup)
        cleanup_bad += bad
        page.add(
            f'<tr><th scope="row"><a href="#scenario-{number}">{number}. '
            f"{page.esc(scenario.name)}</a></th>"
            f"<td>{page.badge(scenario.status)}</td>"
            f'<td class="num">{len(scenario.steps)}</td>'
            f'<td class="num">{counts[Outcome.PASSED]}</td>'
            f'<td class="num">{counts[Outcome.FAILED]}</td>'
            f'<td class="num">{counts[Outcome.ERROR] + counts[Outcome.INTERRUPTED]}</td>'
            f'<td class="num">{counts[Outcome.SKIPPED]}</td>'
            f"<td>{_cleanup_text(len(scenario.cleanup), bad)}</td></tr>"
        )
    page.add(
        "</tbody>",
        f'<tfoot><tr><th scope="row">Total ({len(run.scenarios)} scenarios)</th><td></td>'
        f'<td class="num">{sum(total.values())}</td>'
        f'<td class="num">{total[Outcome.PASSED]}</td>'
        f'<td class="num">{total[Outcome.FAILED]}</td>'
        f'<td class="num">{total[Outcome.ERROR] + total[Outcome.INTERRUPTED]}</td>'
        f'<td class="num">{total[Outcome.SKIPPED]}</td>'
        f"<td>{_cleanup_text(cleanup_total, cleanup_bad)}</td></tr></tfoot>",
        "</table>",
        "</section>",
    )


def _cleanup_text(total: int, bad: int) -> str:
    if total == 0:
        return _NONE
    if bad == 0:
        return f"{total} done"
    return f'<span class="badge s-failed">{bad} FAILED</span> of {total}'


def _scenario_section(page: _Page, number: int, scenario: ScenarioResult) -> None:
    page.add(
        f'<section class="scenario" id="scenario-{number}" aria-labelledby="scenario-{number}-h">',
        f'<h2 id="scenario-{number}-h">Scenario {number}: {page.esc(scenario.name)} '
        f"{page.badge(scenario.status)}</h2>",
    )
    if scenario.message:
        cls = scenario.status.value if scenario.status in _FAILING else "skipped"
        page.add(f'<p class="notice s-{cls}">{page.esc(scenario.message)}</p>')
    rows: list[tuple[str, str]] = [
        ("File", f'<span class="mono">{page.esc(scenario.file)}</span>'),
        ("Tags", page.esc(", ".join(scenario.tags) or _NONE)),
    ]
    rows += [(str(k), page.esc(_meta_text(v))) for k, v in _sorted_meta(scenario.metadata)]
    rows += [
        ("Started (UTC)", page.utc(scenario.start)),
        ("Started (local)", page.local(scenario.start)),
        ("Duration", page.esc(format_ms(scenario.duration))),
    ]
    page.facts(None, rows)
    _steps_table(page, number, scenario)
    _cleanup_table(page, number, scenario.cleanup)
    page.add("</section>")


def _sorted_meta(metadata: Mapping[str, Any]) -> list[tuple[str, Any]]:
    first = ("site", "checklist", "operator")
    known = [(k, metadata[k]) for k in first if k in metadata]
    return known + [(k, v) for k, v in metadata.items() if k not in first]


def _steps_table(page: _Page, number: int, scenario: ScenarioResult) -> None:
    page.add(f'<h3 id="scenario-{number}-checks">Checks</h3>')
    if not scenario.steps:
        page.add("<p>No step ran.</p>")
        return
    page.add(f'<table class="grid" aria-labelledby="scenario-{number}-checks">')
    page.head(
        ("#", 5, ""),
        ("Check", 20, ""),
        ("Result", 12, ""),
        ("Expected", 18, ""),
        ("Observed value", 12, ""),
        ("Quality", 10, ""),
        ("Timestamp (UTC)", 14, ""),
        ("Time", 9, "num"),
    )
    page.add("<tbody>")
    for step in scenario.steps:
        _step_rows(page, scenario, step)
    page.add("</tbody>", "</table>")


def _step_rows(page: _Page, scenario: ScenarioResult, step: StepResult) -> None:
    observed = (
        step.observed_value is not None
        or step.observed_quality is not None
        or step.observed_timestamp is not None
    )
    check = f"<strong>{page.esc(step.kind)}</strong>"
    if step.name:
        check += f" {page.name(step.name)}"
    if step.line is not None:
        check += f'<br><span class="where">line {step.line}</span>'
    quality = (
        _NONE if step.observed_quality is None else page.esc(quality_name(step.observed_quality))
    )
    page.add(
        f'<tr><td class="mono">{page.esc(step.label)}</td><td>{check}</td>'
        f"<td>{page.badge(step.status)}</td>"
        f"<td>{page.esc(step.expected or _NONE)}</td>"
        f"<td>{page.value(step.observed_value) if observed else _NONE}</td>"
        f"<td>{quality}</td>"
        f"<td>{page.utc(step.observed_timestamp)}</td>"
        f'<td class="num">{page.esc(format_ms(step.duration))}</td></tr>'
    )
    if step.status in _FAILING or (step.message and step.status != Outcome.PASSED):
        _step_detail(page, scenario, step)


def _step_detail(page: _Page, scenario: ScenarioResult, step: StepResult) -> None:
    where = step.file or scenario.file
    if step.line is not None:
        where = f"{where}:{step.line}"
    page.add(
        '<tr class="detail"><td colspan="8">',
        '<dl class="facts">',
        f"<dt>Message</dt><dd>{page.esc(step.message or LABELS[step.status])}</dd>",
        f'<dt>Where</dt><dd class="mono">{page.esc(where)}</dd>',
    )
    if step.closest is not None:
        page.add(f'<dt>Closest event</dt><dd class="mono">{page.esc(step.closest.describe())}</dd>')
        if step.closest_explanation:
            page.add(f"<dt>Why it did not match</dt><dd>{page.esc(step.closest_explanation)}</dd>")
    page.add("</dl>")
    if step.timeline:
        _timeline(page, step.timeline, step.closest)
    elif step.status == Outcome.FAILED:
        page.add("<p>No event of the item arrived.</p>")
    page.add("</td></tr>")


def _timeline(page: _Page, events: Sequence[ObservedEvent], closest: ObservedEvent | None) -> None:
    page.add('<table class="grid">', "<caption>Recent events of the item (oldest first)</caption>")
    page.head(
        ("#", 5, ""),
        ("Event", 14, ""),
        ("Value", 22, ""),
        ("Quality", 13, ""),
        ("Source timestamp (UTC)", 16, ""),
        ("Status", 15, ""),
        ("Arrived (UTC)", 15, ""),
    )
    page.add("<tbody>")
    for n, event in enumerate(events, start=1):
        is_closest = closest is not None and event == closest
        kind = page.esc(event.kind)
        if is_closest:
            kind += ' <span class="badge s-skipped">CLOSEST</span>'
        has_value = event.kind in ("data-change", "buffered-data-change")
        quality = (
            page.esc(quality_name(event.quality))
            if has_value and event.quality is not None
            else _NONE
        )
        status = "; ".join(s.describe() for s in event.statuses) or "ok"
        row = '<tr class="closest">' if is_closest else "<tr>"
        page.add(
            f'{row}<td class="mono">{n}</td><td>{kind}</td>'
            f"<td>{page.value(event.value) if has_value else _NONE}</td>"
            f"<td>{quality}</td>"
            f"<td>{page.utc(event.source_timestamp) if has_value else _NONE}</td>"
            f"<td>{page.esc(status)}</td>"
            f"<td>{page.utc(event.arrival_wall)}</td></tr>"
        )
    page.add("</tbody>", "</table>")


def _cleanup_table(page: _Page, number: int, cleanup: Sequence[CleanupResult]) -> None:
    page.add(f'<h3 id="scenario-{number}-cleanup">Cleanup</h3>')
    if not cleanup:
        page.add("<p>Nothing to undo.</p>")
        return
    page.add(f'<table class="grid" aria-labelledby="scenario-{number}-cleanup">')
    page.head(
        ("#", 5, ""),
        ("Action", 17, ""),
        ("Target", 25, ""),
        ("Result", 11, ""),
        ("Message", 33, ""),
        ("Time", 9, "num"),
    )
    page.add("<tbody>")
    for n, entry in enumerate(cleanup, start=1):
        page.add(
            f'<tr><td class="mono">{n:02d}</td><td>{page.esc(entry.action)}</td>'
            f"<td>{page.name(entry.target)}</td><td>{page.badge(entry.status)}</td>"
            f"<td>{page.esc(entry.message or _NONE)}</td>"
            f'<td class="num">{page.esc(format_ms(entry.duration))}</td></tr>'
        )
    page.add("</tbody>", "</table>")


def _signoff_section(page: _Page, run: RunResult, operator: str | None) -> None:
    page.add(
        '<section class="signoff" aria-labelledby="signoff-h">',
        '<h2 id="signoff-h">Sign-off</h2>',
        "<p>The checks listed above were performed against the gateway named in this record, "
        "with the results shown.</p>",
        '<table class="grid signoff">',
        "<caption>Signatures</caption>",
    )
    page.head(("Role", 16, ""), ("Name", 30, ""), ("Signature", 34, ""), ("Date", 20, ""))
    page.add(
        "<tbody>",
        f'<tr><th scope="row">Performed by</th><td>{page.esc(operator or "")}</td>'
        "<td></td><td></td></tr>",
        '<tr><th scope="row">Witnessed by</th><td></td><td></td><td></td></tr>',
        "</tbody>",
        "</table>",
        "<h3>Remarks</h3>",
        '<div class="remarks"></div>',
        "</section>",
    )


def write_html_report(
    run: RunResult,
    path: Path | str,
    redactor: Redactor | None = None,
    *,
    operator: str | None = None,
    local_tz: tzinfo | None = None,
) -> None:
    """Write the commissioning record atomically (the old file stays if anything fails)."""
    atomic_write_text(path, render_html(run, redactor, operator=operator, local_tz=local_tz))


class HtmlReportWriter:
    """``--report-html FILE`` (with ``--operator NAME`` for the sign-off block)."""

    name = "html"
    description = "write a printable HTML commissioning record"

    def __init__(self, operator: str | None = None, local_tz: tzinfo | None = None) -> None:
        self.operator = operator
        self.local_tz = local_tz

    def write(self, run: RunResult, path: Path, redactor: Redactor) -> None:
        """Write the HTML report."""
        write_html_report(run, path, redactor, operator=self.operator, local_tz=self.local_tz)
