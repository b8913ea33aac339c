"""``write``: Write, Write2, WriteSecured or WriteSecured2, then its write completion.

The call is chosen from the params (see :func:`make_writer`). The step waits
for the item's write completion after the write (skipping Pending ones) and
checks its status against ``expect:`` (default ok). With ``restore: true`` the
value seen before is written back at cleanup.
"""

# Timeouts here are budgets handed to gRPC calls and recorder waits, not asyncio timeouts.
# ruff: noqa: ASYNC109

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from mxgw_runner.engine.context import RunContext, engine_context
from mxgw_runner.engine.state import ItemState, SessionState, StepUsageError
from mxgw_runner.errors import StepFailed
from mxgw_runner.matching import (
    MatcherError,
    ObservedStatus,
    StatusMatcher,
    compile_status,
    format_value,
    normalize_name,
)
from mxgw_runner.steps._common import duration, wait_for_event
from mxgw_runner.steps.read import current_event
from mxgw_runner.steptypes import StepContext, StepOutcome

RESTORE = "restore"

Writer = Callable[[Any, float], Awaitable[None]]


def parse_timestamp(text: Any) -> datetime:
    """``timestamp:`` as a UTC datetime: ISO 8601 text (``Z`` allowed) or ``now``."""
    if isinstance(text, datetime):
        return text if text.tzinfo else text.replace(tzinfo=UTC)
    if str(text).strip().lower() == "now":
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise StepUsageError(
            f"timestamp: {text!r} is not an ISO 8601 time such as 2026-01-31T12:00:00Z, or now"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def make_writer(state: SessionState, item: ItemState, params: Mapping[str, Any]) -> Writer:
    """The write call the params ask for, as ``writer(value, timeout)``.

    ``user:`` alone: Write with that user's id (Operate, Tune, Configure);
    ``user:`` and ``verifier:``: WriteSecured (SecuredWrite signs with the same
    user twice, VerifiedWrite with a second user); ``timestamp:`` selects the
    "2" variant of either.
    """
    session = state.session
    server = state.require_server()
    handle = item.handle
    value_type = params.get("type")
    stamp = parse_timestamp(params["timestamp"]) if params.get("timestamp") is not None else None
    user = params.get("user")
    verifier = params.get("verifier")
    if verifier is not None and user is None:
        raise StepUsageError("verifier: needs user: as well (the user who writes)")
    user_id = state.user_id(str(user)) if user is not None else 0
    if verifier is not None:
        verifier_id = state.user_id(str(verifier))

        async def secured(value: Any, timeout: float) -> None:
            if stamp is not None:
                await session.write_secured2(
                    server, handle, value, stamp, current_user_id=user_id,
                    verifier_user_id=verifier_id, type=value_type, timeout=timeout,
                )
            else:
                await session.write_secured(
                    server, handle, value, current_user_id=user_id,
                    verifier_user_id=verifier_id, type=value_type, timeout=timeout,
                )

        return secured

    async def plain(value: Any, timeout: float) -> None:
        if stamp is not None:
            await session.write2(
                server, handle, value, stamp, type=value_type, user_id=user_id, timeout=timeout
            )
        else:
            await session.write(
                server, handle, value, type=value_type, user_id=user_id, timeout=timeout
            )

    return plain


def _statuses(statuses: Any) -> tuple[ObservedStatus, ...]:
    return tuple(
        ObservedStatus(s.success, s.category.label, s.detected_by.label, s.detail) for s in statuses
    )


def _text(statuses: tuple[ObservedStatus, ...]) -> str:
    return "; ".join(s.describe() for s in statuses) if statuses else "ok"


async def wait_for_completion(
    state: SessionState, alias: str, start: int, timeout: float
) -> tuple[ObservedStatus, ...] | None:
    """Statuses of the item's first write completion after ``start`` that is not Pending."""
    position = start
    while True:
        found = await wait_for_event(state.recorder, alias, "write-complete", position, timeout)
        if found is None:
            return None
        index, event = found
        pending = event.statuses and normalize_name(event.statuses[0].category) == "pending"
        if not pending:
            return event.statuses
        position = index + 1


async def _write_and_check(
    rc: RunContext,
    item: ItemState,
    writer: Writer,
    value: Any,
    matcher: StatusMatcher,
    *,
    call_timeout: float,
    wait: bool,
    within: float,
) -> str:
    """Write, then (``wait``) check the completion; returns a phrase for the report."""
    state = rc.require_state()
    import mxgateway

    start = state.recorder.mark_write(item.alias)
    try:
        await writer(value, call_timeout)
    except mxgateway.MxAccessFailureError as exc:
        refused = _statuses(exc.statuses)
        if not matcher.ok and matcher.matches(refused):
            return f"refused as expected: {_text(refused)}"
        hint = (
            ""
            if item.advised
            else " (the item is not advised: MXAccess wants its first data change before a "
            "write, so advise or read it first)"
        )
        raise StepFailed(
            f"the write was refused: {exc}{hint}", expected=matcher.describe()
        ) from None
    if not wait:
        return "sent (not waiting for its completion)"
    statuses = await wait_for_completion(state, item.alias, start, within)
    if statuses is None:
        raise StepFailed(
            f"no write completion for {item.alias} within {within:g} s",
            expected=f"write completion {matcher.describe()}",
        )
    if not matcher.matches(statuses):
        raise StepFailed(
            f"write completion of {item.alias}: {matcher.explain(statuses)}",
            expected=f"write completion {matcher.describe()}",
        )
    return f"write completion {_text(statuses)}"


async def run_write(ctx: StepContext) -> StepOutcome:
    """Write the value, wait for and check its completion; push the restore if asked."""
    rc = engine_context(ctx)
    if rc.read_only:
        raise StepUsageError("--read-only: this run refuses writes")
    state = rc.require_state()
    params = ctx.params
    item = state.item(str(params["item"]))
    writer = make_writer(state, item, params)
    try:
        matcher = compile_status(params.get("expect", "ok"))
    except MatcherError as exc:
        raise StepUsageError(f"expect: {exc}") from None
    wait = bool(params.get("wait", True))
    within = duration(params, "within", ctx.timeout)
    value = params["value"]
    if params.get("restore"):
        _, before = await current_event(rc, item, ctx.timeout)
        previous = before.value
        cleanup_timeout = rc.cleanup_timeout
        ok = compile_status("ok")

        async def restore() -> None:
            await _write_and_check(
                rc, item, writer, previous, ok,
                call_timeout=cleanup_timeout, wait=True, within=cleanup_timeout,
            )

        target = f"{item.alias} = {format_value(previous)}"
        ctx.push_cleanup(RESTORE, target, restore)
        phrase = await _write_and_check(
            rc, item, writer, value, matcher, call_timeout=ctx.timeout, wait=wait, within=within
        )
        if phrase.startswith("refused"):
            # A write refused at once changed nothing: nothing to restore.
            ctx.drop_cleanup(RESTORE, target)
    else:
        phrase = await _write_and_check(
            rc, item, writer, value, matcher, call_timeout=ctx.timeout, wait=wait, within=within
        )
    return StepOutcome(observed_value=value, expected=matcher.describe(), message=phrase)
