"""What the example steps do. Steps never print: they act through the StepContext, return
a StepOutcome for the report, raise StepFailed when a check fails, and register undo
actions with push_cleanup so they run whatever happens to the scenario."""

from __future__ import annotations

import csv
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from mxgw_runner.durations import parse_duration
from mxgw_runner.errors import StepFailed
from mxgw_runner.steptypes import StepContext, StepOutcome

REGISTER_ENV = "MXGW_TAG_REGISTER"
DEFAULT_REGISTER = "tag-register.csv"


def _append(register: Path, state: str, equipment: str, scenario: str, reason: str) -> None:
    """One line of the register: when, TAGGED/RELEASED, equipment, scenario, reason."""
    register.parent.mkdir(parents=True, exist_ok=True)
    with register.open("a", newline="", encoding="utf-8") as handle:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        csv.writer(handle).writerow([stamp, state, equipment, scenario, reason])


async def run_tag_out(ctx: StepContext) -> StepOutcome:
    """Tag the equipment now and release the tag when the scenario ends."""
    equipment = str(ctx.params["equipment"])
    reason = str(ctx.params.get("reason", "under test"))
    default = os.environ.get(REGISTER_ENV) or DEFAULT_REGISTER
    register = Path(str(ctx.params.get("register", default)))
    scenario = ctx.scenario.name
    _append(register, "TAGGED", equipment, scenario, reason)

    async def release() -> None:
        _append(register, "RELEASED", equipment, scenario, reason)

    ctx.push_cleanup("release tag", equipment, release)
    return StepOutcome(message=f"{equipment} tagged in {register}")


async def run_expect_steady(ctx: StepContext) -> StepOutcome:
    """Wait for the item's reading, then watch it for ``for:``; fail if it leaves the band."""
    alias = str(ctx.params["item"])
    band = float(ctx.params["band"])
    hold = parse_duration(ctx.params["for"])
    recorder = ctx.recorder

    def readings(start: int) -> list[float]:
        return [
            float(e.value)
            for e in recorder.events[start:]
            if e.item == alias and e.kind == "data-change"
        ]

    first_deadline = time.monotonic() + ctx.timeout
    seen = readings(0)
    while not seen:  # not advised yet, or no change arrived yet
        count = len(recorder.events)
        remaining = first_deadline - time.monotonic()
        if remaining <= 0 or not await recorder.wait_for_events(count, remaining):
            raise StepFailed(f"no reading of {alias} arrived within {ctx.timeout:g} s")
        seen = readings(count)
    reference = seen[-1]
    low, high = reference - band, reference + band
    expected = f"within {low:g}..{high:g} for {hold:g} s"
    watched = len(recorder.events)
    deadline = time.monotonic() + hold
    while (remaining := deadline - time.monotonic()) > 0:
        arrived = await recorder.wait_for_events(watched, remaining)
        for value in readings(watched):
            if not low <= value <= high:
                raise StepFailed(
                    f"{alias} moved to {value:g}, outside {low:g}..{high:g}", expected=expected
                )
        watched = len(recorder.events)
        if not arrived and deadline - time.monotonic() > 0.05:
            raise StepFailed(f"the event stream ended while watching {alias}", expected=expected)
    return StepOutcome(observed_value=reference, expected=expected)
