"""``add-item``, ``remove-item``, ``advise`` and ``unadvise``."""

from __future__ import annotations

from mxgw_runner.engine.context import engine_context
from mxgw_runner.engine.state import ItemState, StepUsageError
from mxgw_runner.steps._common import item_names
from mxgw_runner.steptypes import StepContext, StepOutcome

REMOVE = "remove-item"
UNADVISE = "unadvise"


async def run_add_item(ctx: StepContext) -> StepOutcome:
    """AddItem (AddItem2 with ``context:``); ``as:`` names it; pushes its removal."""
    rc = engine_context(ctx)
    state = rc.require_state()
    server = state.require_server()
    reference = str(ctx.params["item"])
    alias = str(ctx.params.get("as") or reference)
    if alias in state.items:
        raise StepUsageError(f"item {alias!r} was already added (give it another as: name)")
    context = ctx.params.get("context")
    session = state.session
    if context is not None:
        handle = await session.add_item2(server, reference, str(context), timeout=ctx.timeout)
    else:
        handle = await session.add_item(server, reference, timeout=ctx.timeout)
    item = ItemState(alias, reference, handle)
    state.add(item)
    timeout = rc.cleanup_timeout

    async def remove() -> None:
        await session.remove_item(server, handle, timeout=timeout)
        state.remove(item)

    ctx.push_cleanup(REMOVE, alias, remove)
    return StepOutcome(message=f"item handle {handle}")


async def run_remove_item(ctx: StepContext) -> None:
    """RemoveItem; drops its pending unadvise and removal."""
    rc = engine_context(ctx)
    state = rc.require_state()
    server = state.require_server()
    item = state.item(str(ctx.params["item"]))
    await state.session.remove_item(server, item.handle, timeout=ctx.timeout)
    ctx.drop_cleanup(UNADVISE, item.alias)
    ctx.drop_cleanup(REMOVE, item.alias)
    state.remove(item)


async def run_advise(ctx: StepContext) -> None:
    """Advise each item (AdviseSupervisory with ``supervisory: true``); cursors start here."""
    rc = engine_context(ctx)
    state = rc.require_state()
    server = state.require_server()
    supervisory = bool(ctx.params.get("supervisory", False))
    session = state.session
    timeout = rc.cleanup_timeout
    for name in item_names(ctx.params):
        item = state.item(name)
        # The cursor is placed before the call: the initial data change may beat the reply.
        item.advised_at = len(state.recorder.events)
        state.recorder.reset_cursor(item.alias, item.advised_at)
        if supervisory:
            await session.advise_supervisory(server, item.handle, timeout=ctx.timeout)
        else:
            await session.advise(server, item.handle, timeout=ctx.timeout)
        item.advised = True
        item.supervisory = supervisory

        async def unadvise(item: ItemState = item) -> None:
            await session.unadvise(server, item.handle, timeout=timeout)
            item.advised = False

        ctx.push_cleanup(UNADVISE, item.alias, unadvise)


async def run_unadvise(ctx: StepContext) -> None:
    """UnAdvise each item; drops its pending unadvise."""
    rc = engine_context(ctx)
    state = rc.require_state()
    server = state.require_server()
    for name in item_names(ctx.params):
        item = state.item(name)
        await state.session.unadvise(server, item.handle, timeout=ctx.timeout)
        item.advised = False
        ctx.drop_cleanup(UNADVISE, item.alias)
