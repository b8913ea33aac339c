"""``check-items``: the bulk checklist. Thousands of items in a few round trips.

Every row names an item (``item: ${row.tag}``) and optionally what its first data
change must show (``value:``, ``quality:``, the matchers of ``expect-event``). The
step adds every item with one AddItemBulk, advises them with one AdviseItemBulk,
waits for each item's first data change and judges it; each item is a check of
its own. An item MXAccess refuses to add or advise fails its own check with
MXAccess's message, not the whole step. Cleanup is one UnAdviseItemBulk and one
RemoveItemBulk.
"""

# Timeouts here are budgets handed to gRPC calls and recorder waits, not asyncio timeouts.

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mxgw_runner import variables as V
from mxgw_runner.engine.context import RunContext, engine_context
from mxgw_runner.engine.recorder import EventStreamLost, Recorder
from mxgw_runner.engine.state import ItemState, SessionState, StepUsageError
from mxgw_runner.errors import StepFailed
from mxgw_runner.matching import (
    EventExpectation,
    MatchContext,
    MatcherError,
    ObservedEvent,
    compile_quality,
    compile_value,
)
from mxgw_runner.results import Outcome, StepResult
from mxgw_runner.steps._common import duration
from mxgw_runner.steps.flow import name_rows, rows_of
from mxgw_runner.steptypes import StepContext, StepOutcome

#: Keys holding per-row templates (resolved with the row bound).
ROW_KEYS = ("item", "alias", "value", "quality")
#: Items named in the step's failure message before "and N more".
NAMED_FAILURES = 5
UNADVISE = "unadvise"
REMOVE = "remove-item"


@dataclass(slots=True)
class _Row:
    """One row to check: its item, alias, expectation and (once known) its verdict."""

    number: int
    reference: str
    alias: str
    expectation: EventExpectation
    handle: int | None = None
    status: Outcome = Outcome.PASSED
    message: str | None = None
    event: ObservedEvent | None = None


def _has_dollar(value: Any) -> bool:
    if isinstance(value, str):
        return "$" in value
    if isinstance(value, Mapping):
        return any(_has_dollar(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_dollar(v) for v in value)
    return False


class _Templates:
    """The per-row keys, sorted by how cheaply each row resolves them: a constant, exactly
    one ``${row.column}`` (a lookup), or anything else (the full resolver)."""

    def __init__(self, rc: RunContext, params: Mapping[str, Any], as_name: str) -> None:
        self.rc = rc
        self.as_name = as_name
        self.constants: dict[str, Any] = {}
        self.lookups: dict[str, V.VarRef] = {}
        self.general: dict[str, Any] = {}
        for key in ROW_KEYS:
            if key not in params:
                continue
            template = params[key]
            ref = V.single_reference(template) if isinstance(template, str) else None
            if ref is not None and ref.source == "var" and ref.name == as_name:
                self.lookups[key] = ref
            elif _has_dollar(template):
                self.general[key] = template
            else:
                self.constants[key] = template

    def values(self, row: Any) -> dict[str, Any]:
        """The row's resolved keys (VariableError when one cannot be resolved)."""
        out = dict(self.constants)
        if self.lookups:
            scope = {self.as_name: row}
            for key, ref in self.lookups.items():
                out[key] = V.lookup(ref, scope)
        if self.general:
            out.update(self.rc.resolve(self.general, {self.as_name: row}))
        return out


def _plan(rc: RunContext, rows: Sequence[Any]) -> list[_Row]:
    """Resolve each row's item, alias and expectation (a bad row is the scenario's error)."""
    params = rc.params
    as_name = str(params.get("as") or "row")
    templates = _Templates(rc, params, as_name)
    state = rc.require_state()
    seen: dict[str, int] = {}
    out: list[_Row] = []
    total = len(rows)
    quality_constant = "quality" in templates.constants
    try:
        shared_quality = (
            compile_quality(templates.constants["quality"]) if quality_constant else None
        )
    except MatcherError as exc:
        raise StepUsageError(f"quality: {exc}") from None
    for number, row in enumerate(rows, start=1):
        where = f"row {number} of {total}"
        try:
            values = templates.values(row)
        except V.VariableError as exc:
            raise StepUsageError(f"{where}: {exc}") from None
        reference = values.get("item")
        if not isinstance(reference, str) or not reference.strip():
            raise StepUsageError(f"{where}: item: must be a non-empty item reference")
        alias = values.get("alias")
        alias = reference if alias is None or alias == "" else str(alias)
        if alias in seen:
            raise StepUsageError(
                f"{where}: item {alias!r} is already row {seen[alias]} (give it another alias:)"
            )
        if alias in state.items:
            raise StepUsageError(f"{where}: item {alias!r} was already added by an earlier step")
        seen[alias] = number
        try:
            expectation = EventExpectation(
                item=alias,
                value=compile_value(values["value"]) if "value" in values else None,
                quality=(
                    shared_quality
                    if quality_constant
                    else compile_quality(values["quality"])
                    if "quality" in values
                    else None
                ),
            )
        except MatcherError as exc:
            raise StepUsageError(f"{where}: {exc}") from None
        out.append(_Row(number, reference, alias, expectation))
    return out


async def run_check_items(ctx: StepContext) -> StepOutcome:
    """Add, advise and check the first data change of every row's item, in bulk."""
    rc = engine_context(ctx)
    state = rc.require_state()
    server = state.require_server()
    # This step resolves its own params: the row keys per row, the others here.
    try:
        general = rc.resolve({k: v for k, v in ctx.params.items() if k not in ROW_KEYS}, {})
    except V.VariableError as exc:
        raise StepUsageError(str(exc)) from None
    rows = _plan(rc, rows_of(general))
    name_rows(rc, len(rows))
    within = duration(general, "within", ctx.timeout)
    try:
        if rows:
            await _add(rc, state, server, rows)
            advised = await _advise(rc, state, server, rows)
            await _first_changes(rc, state.recorder, advised, within)
    except BaseException as exc:
        # The record still lists every row: the ones not judged say why.
        interrupted = isinstance(exc, asyncio.CancelledError)
        status = Outcome.INTERRUPTED if interrupted else Outcome.ERROR
        for row in rows:
            if row.status == Outcome.PASSED and row.event is None:
                row.status = status
                row.message = "not checked: " + ("interrupted" if interrupted else str(exc))
        for row in rows:
            rc.record_check(_result(rc, row, len(rows)))
        raise
    for row in rows:
        await rc.add_check(_result(rc, row, len(rows)))
    failed = [r for r in rows if r.status != Outcome.PASSED]
    if failed:
        named = ", ".join(f"[{r.number}/{len(rows)}] {r.alias}" for r in failed[:NAMED_FAILURES])
        if len(failed) > NAMED_FAILURES:
            named += f" and {len(failed) - NAMED_FAILURES} more"
        raise StepFailed(f"{len(failed)} of {len(rows)} items failed: {named}")
    return StepOutcome(message=f"{len(rows)} item{'s' if len(rows) != 1 else ''} checked")


async def _add(rc: RunContext, state: SessionState, server: int, rows: list[_Row]) -> None:
    """AddItemBulk; remember the items added and push their bulk removal."""
    session = state.session
    results = await session.add_item_bulk(server, [r.reference for r in rows], timeout=rc.timeout)
    added: list[ItemState] = []
    for row, reply in zip(rows, results, strict=True):
        if reply.was_successful:
            row.handle = int(reply.item_handle)
            item = ItemState(row.alias, row.reference, row.handle)
            state.add(item)
            added.append(item)
        else:
            row.status = Outcome.FAILED
            row.message = f"AddItem failed: {reply.error_message or 'refused by MXAccess'}"
    if not added:
        return
    timeout = rc.cleanup_timeout

    async def remove() -> None:
        await session.remove_item_bulk(server, [i.handle for i in added], timeout=timeout)
        for i in added:
            state.remove(i)

    rc.push_cleanup(REMOVE, f"{len(added)} items of step {rc.step.index}", remove)


async def _advise(rc: RunContext, state: SessionState, server: int, rows: list[_Row]) -> list[_Row]:
    """AdviseItemBulk of the added items (cursors start here); push their bulk unadvise."""
    session = state.session
    recorder = state.recorder
    todo = [r for r in rows if r.handle is not None]
    if not todo:
        return []
    start = len(recorder.events)
    for row in todo:
        item = state.items[row.alias]
        item.advised_at = start
        recorder.reset_cursor(row.alias, start)
    results = await session.advise_item_bulk(
        server, [r.handle for r in todo if r.handle is not None], timeout=rc.timeout
    )
    advised: list[_Row] = []
    for row, reply in zip(todo, results, strict=True):
        if reply.was_successful:
            state.items[row.alias].advised = True
            advised.append(row)
        else:
            row.status = Outcome.FAILED
            row.message = f"Advise failed: {reply.error_message or 'refused by MXAccess'}"
    if advised:
        items = [state.items[r.alias] for r in advised]
        timeout = rc.cleanup_timeout

        async def unadvise() -> None:
            await session.unadvise_item_bulk(server, [i.handle for i in items], timeout=timeout)
            for i in items:
                i.advised = False

        rc.push_cleanup(UNADVISE, f"{len(items)} items of step {rc.step.index}", unadvise)
    return advised


async def _first_changes(
    rc: RunContext, recorder: Recorder, rows: list[_Row], within: float
) -> None:
    """Wait up to ``within`` for each row's first data change and judge it."""
    if not rows:
        return
    match_ctx = MatchContext(step_start=rc.step_start)
    pending: dict[str, _Row] = {r.alias: r for r in rows}
    start = position = min(rc.require_state().items[r.alias].advised_at for r in rows)
    deadline = time.monotonic() + within
    while pending:
        events = recorder.events
        end = len(events)
        for i in range(position, end):
            event = events[i]
            if event.kind != "data-change":
                continue
            row = pending.pop(event.item, None)
            if row is None:
                continue
            row.event = event
            if not row.expectation.matches(event, match_ctx):
                row.status = Outcome.FAILED
                row.message = row.expectation.explain(event, match_ctx)
        position = end
        if not pending:
            break
        gap = recorder.gap_between(start, end)
        if gap is not None:
            for row in pending.values():
                row.status = Outcome.ERROR
                row.message = gap.describe()
            return
        if recorder.lost is not None:
            raise EventStreamLost(recorder.lost)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        await recorder.wait_for_events(end, remaining)
    for row in pending.values():
        row.status = Outcome.FAILED
        row.message = f"no data change within {within:g} s"


def _result(rc: RunContext, row: _Row, total: int) -> StepResult:
    """The check of one row for the reports."""
    parent = rc.result
    label = parent.label if parent is not None else f"{rc.step.index:02d}"
    name = row.reference if row.alias == row.reference else f"{row.alias} ({row.reference})"
    event = row.event
    expected = row.expectation.describe()
    return StepResult(
        index=row.number,
        kind=rc.step.kind,
        name=f"[{row.number}/{total}] {name}",
        line=rc.step.line,
        file=rc.step.location.file,
        status=row.status,
        start=event.arrival_wall if event is not None else datetime.now(UTC),
        number=f"{label}.{row.number}",
        observed_value=event.value if event is not None else None,
        observed_quality=event.quality if event is not None else None,
        observed_timestamp=event.source_timestamp if event is not None else None,
        expected=expected,
        message=row.message,
    )


def row_keys(params: Mapping[str, Any]) -> dict[str, Any]:
    """The per-row templates of a ``check-items`` body (for the loader's checks)."""
    return {k: params[k] for k in ROW_KEYS if k in params}
