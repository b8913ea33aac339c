"""``wait``: sleep for a duration (the one step allowed to just pass time)."""

from __future__ import annotations

import asyncio

from mxgw_runner.steps._common import duration
from mxgw_runner.steptypes import StepContext


async def run_wait(ctx: StepContext) -> None:
    """Sleep ``for:`` seconds (cancelled at once by Ctrl-C or the scenario timeout)."""
    await asyncio.sleep(duration(ctx.params, "for", 0.0))
