"""``register`` and ``unregister``: the MXAccess connection (server handle)."""

from __future__ import annotations

from mxgw_runner.engine.cleanup import unwind_above
from mxgw_runner.engine.context import engine_context
from mxgw_runner.engine.outcomes import describe_error
from mxgw_runner.engine.state import StepUsageError
from mxgw_runner.errors import StepFailed
from mxgw_runner.steptypes import StepContext, StepOutcome

UNREGISTER = "unregister"
DEFAULT_CLIENT_NAME = "mxgw-run"


async def run_register(ctx: StepContext) -> StepOutcome:
    """Register; remembers the server handle and pushes its unregister."""
    rc = engine_context(ctx)
    state = rc.require_state()
    if state.server_handle is not None:
        raise StepUsageError("already registered: this session has a server handle")
    name = str(ctx.params.get("client-name") or DEFAULT_CLIENT_NAME)
    handle = await state.session.register(name, timeout=ctx.timeout)
    if handle <= 0:
        raise StepFailed(f"Register returned server handle {handle} (a handle <= 0 is a failure)")
    state.server_handle = handle
    session = state.session
    timeout = rc.cleanup_timeout

    async def unregister() -> None:
        await session.unregister(handle, timeout=timeout)
        if state.server_handle == handle:
            state.server_handle = None

    ctx.push_cleanup(UNREGISTER, name, unregister)
    return StepOutcome(message=f"server handle {handle}")


async def run_unregister(ctx: StepContext) -> StepOutcome | None:
    """Undo what the connection holds (items, restores), then Unregister."""
    rc = engine_context(ctx)
    state = rc.require_state()
    handle = state.require_server()
    target = next(
        (e.target for e in reversed(rc.cleanup_stack.entries) if e.action == UNREGISTER), None
    )
    outcomes = []
    if target is not None:
        outcomes = await unwind_above(
            rc.cleanup_stack, UNREGISTER, target, rc.cleanup_timeout, describe_error=describe_error
        )
    await state.session.unregister(handle, timeout=ctx.timeout)
    state.server_handle = None
    state.items.clear()
    state.by_handle.clear()
    state.users.clear()
    rc.record_cleanup(outcomes)
    failed = [o for o in outcomes if o.outcome != "passed"]
    if failed:
        raise StepFailed(
            "unregistered, but undoing what the connection held failed: "
            + "; ".join(f"{o.action} {o.target}: {o.message}" for o in failed)
        )
    return None
