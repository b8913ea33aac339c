"""``open-session`` and ``close-session``: the session and its event recorder."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from mxgw_runner.engine.cleanup import unwind_above
from mxgw_runner.engine.context import engine_context
from mxgw_runner.engine.outcomes import describe_error
from mxgw_runner.engine.recorder import Recorder
from mxgw_runner.engine.state import SessionState, StepUsageError
from mxgw_runner.errors import StepFailed
from mxgw_runner.steptypes import StepContext, StepOutcome

CLOSE = "close-session"


def _fatal(exc: BaseException) -> bool:
    """Stream errors that reconnecting cannot fix (the session is gone or refused)."""
    import grpc

    import mxgateway

    if isinstance(
        exc,
        mxgateway.SessionNotFoundError
        | mxgateway.SessionFaultedError
        | mxgateway.AuthenticationError
        | mxgateway.PermissionDeniedError
        | mxgateway.ClientClosedError,
    ):
        return True
    # A faulted session answers StreamEvents with FAILED_PRECONDITION.
    return (
        isinstance(exc, mxgateway.GatewayRpcError)
        and exc.code == grpc.StatusCode.FAILED_PRECONDITION
    )


async def _open(client: Any, name: str, budget: float, cleanup_budget: float) -> Any:
    """OpenSession that never leaves a session behind when the run is interrupted.

    A Ctrl-C or SIGTERM may land after the gateway opened the session but before its reply
    arrived: nothing in the cleanup stack knows that session yet. The call is shielded, so
    on cancellation the reply is still awaited (for the cleanup timeout at most) and the
    session it names closed, before the cancellation goes on. A second Ctrl-C abandons that
    wait, like any cleanup.
    """
    opening = asyncio.ensure_future(client.open_session(name, timeout=budget))
    try:
        return await asyncio.shield(opening)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            session = await asyncio.wait_for(opening, cleanup_budget)
            await session.close("mxgw-run: interrupted while opening", timeout=cleanup_budget)
        if not opening.done():
            opening.cancel()
        raise


async def run_open_session(ctx: StepContext) -> StepOutcome:
    """OpenSession, then start recording its events before any other step runs."""
    rc = engine_context(ctx)
    if rc.state is not None and not rc.state.closed:
        raise StepUsageError("a session is already open: close-session it first")
    client = await rc.client()
    name = ctx.params.get("client-session-name") or f"mxgw-run: {ctx.scenario.name}"
    session = await _open(client, str(name), ctx.timeout, rc.cleanup_timeout)
    state = SessionState(session)
    state.recorder = Recorder(
        lambda after: session.events(after, batch=True, max_batch_delay=0.0),
        state.alias_of,
        is_fatal=_fatal,
        describe_error=describe_error,
    )
    state.recorder.start()
    rc.set_state(state)
    rc.set_protocol_version(session.gateway_protocol_version)
    timeout = rc.cleanup_timeout

    async def close() -> None:
        state.closed = True
        await state.recorder.stop()
        await session.close("mxgw-run cleanup", timeout=timeout)

    ctx.push_cleanup(CLOSE, session.session_id, close)
    return StepOutcome(message=f"session {session.session_id}")


async def run_close_session(ctx: StepContext) -> StepOutcome:
    """Undo everything acquired in the session (restores first), then close it."""
    rc = engine_context(ctx)
    state = rc.require_state()
    session = state.session
    outcomes = await unwind_above(
        rc.cleanup_stack,
        CLOSE,
        session.session_id,
        rc.cleanup_timeout,
        describe_error=describe_error,
    )
    state.closed = True
    await state.recorder.stop()
    final = await session.close("close-session step", timeout=ctx.timeout)
    rc.record_cleanup(outcomes)
    failed = [o for o in outcomes if o.outcome != "passed"]
    if failed:
        raise StepFailed(
            "closed the session, but undoing what it held failed: "
            + "; ".join(f"{o.action} {o.target}: {o.message}" for o in failed)
        )
    return StepOutcome(message=f"session {session.session_id} {final.name.lower()}")
