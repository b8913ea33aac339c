"""One scenario's part of the HTML commissioning record: its facts, every check (with
the event timeline of each failure) and its cleanup actions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mxgw_runner.matching import ObservedEvent, quality_name
from mxgw_runner.reports.console import format_ms
from mxgw_runner.reports.html_page import FAILING, LABELS, NONE, PageBuilder, meta_text
from mxgw_runner.results import CleanupResult, Outcome, ScenarioResult, StepResult

#: Cleanup lists up to this long are kept on one printed page.
KEEP_ROWS = 15


def scenario_section(page: PageBuilder, number: int, scenario: ScenarioResult) -> None:
    """The page section of scenario ``number``: facts, checks and cleanup."""
    page.add(
        f'<section class="scenario" id="scenario-{number}" aria-labelledby="scenario-{number}-h">',
        f'<h2 id="scenario-{number}-h">Scenario {number}: {page.esc(scenario.name)} '
        f"{page.badge(scenario.status)}</h2>",
    )
    if scenario.message:
        cls = scenario.status.value if scenario.status in FAILING else "skipped"
        page.add(f'<p class="notice s-{cls}">{page.esc(scenario.message)}</p>')
    rows: list[tuple[str, str]] = [
        ("File", f'<span class="mono">{page.esc(scenario.file)}</span>'),
        ("Tags", page.esc(", ".join(scenario.tags) or NONE)),
    ]
    rows += [(str(k), page.esc(meta_text(v))) for k, v in _sorted_meta(scenario.metadata)]
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


def _steps_table(page: PageBuilder, number: int, scenario: ScenarioResult) -> None:
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
        _nested_rows(page, scenario, step)
    page.add("</tbody>", "</table>")


def _nested_rows(page: PageBuilder, scenario: ScenarioResult, step: StepResult) -> None:
    """Rows under a step: every pass or checked item of a group, an include's steps, and
    the steps of a pass that did not pass (a passing pass is one row)."""
    for child in step.children:
        _step_rows(page, scenario, child)
        if child.children and (not step.group or child.status != Outcome.PASSED):
            _nested_rows(page, scenario, child)


def _step_rows(page: PageBuilder, scenario: ScenarioResult, step: StepResult) -> None:
    observed = (
        step.observed_value is not None
        or step.observed_quality is not None
        or step.observed_timestamp is not None
    )
    check = f"<strong>{page.esc(step.kind)}</strong>"
    if step.name:
        check += f" {page.name(step.name)}"
    notes = [f"line {step.line}"] if step.line is not None else []
    if step.message and step.status == Outcome.PASSED:
        notes.append(page.esc(step.message))  # what a passing step did: "item handle 1"
    if notes:
        check += f'<br><span class="where">{" · ".join(notes)}</span>'
    quality = (
        NONE if step.observed_quality is None else page.esc(quality_name(step.observed_quality))
    )
    page.add(
        f'<tr><td class="mono">{page.esc(step.label)}</td><td>{check}</td>'
        f"<td>{page.badge(step.status)}</td>"
        f"<td>{page.esc(step.expected or NONE)}</td>"
        f"<td>{page.value(step.observed_value) if observed else NONE}</td>"
        f"<td>{quality}</td>"
        f"<td>{page.utc(step.observed_timestamp)}</td>"
        f'<td class="num">{page.esc(format_ms(step.duration))}</td></tr>'
    )
    if step.status in FAILING or (step.message and step.status != Outcome.PASSED):
        _step_detail(page, scenario, step)


def _step_detail(page: PageBuilder, scenario: ScenarioResult, step: StepResult) -> None:
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
        page.add(f'<dt>Closest event</dt><dd class="mono">{page.event(step.closest)}</dd>')
        if step.closest_explanation:
            page.add(f"<dt>Why it did not match</dt><dd>{page.esc(step.closest_explanation)}</dd>")
    page.add("</dl>")
    if step.timeline:
        _timeline(page, step.timeline, step.closest)
    elif step.status == Outcome.FAILED and _waited_in_vain(step):
        page.add("<p>No event of the item arrived.</p>")
    page.add("</td></tr>")


#: Steps that fail when no event of their item arrives (a failed write or confirm did not).
_EVENT_WAITS = frozenset({"expect-event", "read", "check-items"})


def _waited_in_vain(step: StepResult) -> bool:
    """True when the step waited for an event of one item and saw none: only then does
    "No event of the item arrived" explain the failure (a group's rows explain their own)."""
    return (
        step.kind in _EVENT_WAITS
        and not step.children
        and step.closest is None
        and step.observed_quality is None
        and step.observed_timestamp is None
    )


def _timeline(
    page: PageBuilder, events: Sequence[ObservedEvent], closest: ObservedEvent | None
) -> None:
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
            else NONE
        )
        status = "; ".join(s.describe() for s in event.statuses) or "ok"
        row = '<tr class="closest">' if is_closest else "<tr>"
        page.add(
            f'{row}<td class="mono">{n}</td><td>{kind}</td>'
            f"<td>{page.value(event.value) if has_value else NONE}</td>"
            f"<td>{quality}</td>"
            f"<td>{page.utc(event.source_timestamp) if has_value else NONE}</td>"
            f"<td>{page.esc(status)}</td>"
            f"<td>{page.utc(event.arrival_wall)}</td></tr>"
        )
    page.add("</tbody>", "</table>")


def _cleanup_table(page: PageBuilder, number: int, cleanup: Sequence[CleanupResult]) -> None:
    # a short list stays on one printed page with its heading
    page.add('<div class="keep">' if len(cleanup) <= KEEP_ROWS else "<div>")
    page.add(f'<h3 id="scenario-{number}-cleanup">Cleanup</h3>')
    if not cleanup:
        page.add("<p>Nothing to undo.</p></div>")
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
            f"<td>{page.esc(entry.message or NONE)}</td>"
            f'<td class="num">{page.esc(format_ms(entry.duration))}</td></tr>'
        )
    page.add("</tbody>", "</table>", "</div>")
