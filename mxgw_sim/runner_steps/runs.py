"""What each ``sim-*`` step does: one control call, and the undo it registers for cleanup.

Values and qualities are read back through a short probe session on the same simulator
before they are changed, so cleanup restores exactly what was there (value, type and
quality), whatever the galaxy file configured.
"""

# Timeouts here are budgets handed to gRPC calls, not asyncio timeouts.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf.duration_pb2 import Duration

from mxgateway import DataChange, MxGatewayError, ValueConversionError, to_mx_value
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgw_runner.durations import parse_duration
from mxgw_runner.engine.state import StepUsageError
from mxgw_runner.matching.names import NAMED_QUALITIES, QUALITY_CLASSES
from mxgw_runner.steptypes import StepContext, StepOutcome
from mxgw_sim.generated import mxgw_sim_control_pb2 as cpb
from mxgw_sim.runner_steps.control import Control, ControlTarget, resolve_target, session_id

PROBE_NAME = "mxgw-run sim probe"


def quality_code(spec: Any) -> int:
    """An OPC DA quality number from ``good``/``bad``/a named quality/a number."""
    if isinstance(spec, bool):
        raise StepUsageError(f"quality: {spec!r} is not a quality")
    if isinstance(spec, int):
        return spec
    name = str(spec).strip().lower()
    if name in QUALITY_CLASSES:
        return QUALITY_CLASSES[name]
    if name in NAMED_QUALITIES:
        return NAMED_QUALITIES[name]
    if name.isdigit():
        return int(name)
    raise StepUsageError(f"quality: unknown quality {spec!r}")


def _seconds(value: Any) -> float:
    return parse_duration(value) if isinstance(value, str) else float(value)


def _duration(seconds: float) -> Duration:
    duration = Duration()
    duration.FromNanoseconds(int(seconds * 1e9))
    return duration


@dataclass(frozen=True)
class _Sim:
    """The simulator a step works on: its control service, and the run's own gateway client
    (None when the step names a ``control:`` block of its own)."""

    ctx: StepContext
    target: ControlTarget
    run_client: Any

    def control(self) -> Control:
        """A channel to the simulator's control service (``async with``)."""
        return Control(self.target, self.run_client)

    def push_undo(
        self, action: str, target_name: str, method: str, request: Any, *, missing_ok: bool = False
    ) -> None:
        """Register an undo that makes one control call on the same simulator."""
        timeout = self.ctx.timeout

        async def undo() -> None:
            async with self.control() as control:
                await control.call(method, request, timeout, missing_ok=missing_ok)

        self.ctx.push_cleanup(action, target_name, undo)


async def _open(ctx: StepContext) -> _Sim:
    target = await resolve_target(ctx)
    run_client = None if target.separate else await ctx.client()
    return _Sim(ctx, target, run_client)


async def probe(control: Control, reference: str, timeout: float) -> pb.MxEvent:
    """The attribute's current data change, read through a short session of its own."""
    client = await control.gateway(timeout)
    try:
        session = await client.open_session(PROBE_NAME, timeout=timeout)
    except MxGatewayError as exc:
        raise MxGatewayError(f"cannot read {reference} before changing it: {exc}") from None
    try:
        server = await session.register("mxgw-run-sim-probe", timeout=timeout)
        try:
            handle = await session.add_item(server, reference, timeout=timeout)
        except MxGatewayError as exc:
            raise StepUsageError(f"{reference}: cannot read it before changing it: {exc}") from None
        stream = session.events()
        try:
            await session.advise(server, handle, timeout=timeout)
            async with asyncio.timeout(timeout):
                async for event in stream:
                    if isinstance(event, DataChange) and event.raw.item_handle == handle:
                        return event.raw
        except TimeoutError:
            pass
        finally:
            stream.cancel()
        raise MxGatewayError(f"{reference}: no data change within {timeout:g} s to read it by")
    finally:
        await asyncio.shield(session.close("probe done", timeout=timeout))


def _restore(ctx: StepContext) -> bool:
    return bool(ctx.params.get("restore", True))


async def run_set_value(ctx: StepContext) -> StepOutcome:
    """Force an attribute's value (and quality); cleanup puts back what was there."""
    p = ctx.params
    reference = str(p["reference"])
    try:
        value = to_mx_value(p["value"], p.get("type"))
    except ValueConversionError as exc:
        raise StepUsageError(f"value: {exc}") from None
    request = cpb.SetValueRequest(reference=reference, value=value)
    if p.get("quality") is not None:
        request.quality = quality_code(p["quality"])
    sim = await _open(ctx)
    async with sim.control() as control:
        before = await probe(control, reference, ctx.timeout) if _restore(ctx) else None
        await control.call("SetValue", request, ctx.timeout)
    if before is not None:
        undo = cpb.SetValueRequest(reference=reference, value=before.value)
        if request.HasField("quality"):
            undo.quality = before.quality
        sim.push_undo("sim restore value", reference, "SetValue", undo)
    return StepOutcome(message=f"{reference} forced to {p['value']!r}")


async def run_set_quality(ctx: StepContext) -> StepOutcome:
    """Force an attribute's quality; cleanup puts back the quality it had."""
    reference = str(ctx.params["reference"])
    quality = quality_code(ctx.params["quality"])
    sim = await _open(ctx)
    async with sim.control() as control:
        before = await probe(control, reference, ctx.timeout) if _restore(ctx) else None
        await control.call(
            "SetQuality", cpb.SetQualityRequest(reference=reference, quality=quality), ctx.timeout
        )
    if before is not None:
        undo = cpb.SetQualityRequest(reference=reference, quality=before.quality)
        sim.push_undo("sim restore quality", reference, "SetQuality", undo)
    return StepOutcome(message=f"{reference} quality forced to {quality}")


async def run_set_scan(ctx: StepContext) -> StepOutcome:
    """Put an object on or off scan; cleanup puts it back the other way."""
    obj = str(ctx.params["object"])
    on_scan = str(ctx.params["state"]) == "on"
    sim = await _open(ctx)
    async with sim.control() as control:
        await control.call("SetScan", cpb.SetScanRequest(object=obj, on_scan=on_scan), ctx.timeout)
    if _restore(ctx):
        undo = cpb.SetScanRequest(object=obj, on_scan=not on_scan)
        sim.push_undo(f"sim scan {'off' if on_scan else 'on'}", obj, "SetScan", undo)
    return StepOutcome(message=f"{obj} {'on' if on_scan else 'off'} scan")


async def run_latency(ctx: StepContext) -> StepOutcome:
    """Add command and event latency; cleanup sets both back to none."""
    p = ctx.params
    commands = _seconds(p.get("commands", 0))
    events = _seconds(p.get("events", 0))
    selected = session_id(ctx, p.get("session"), allow_all=True)
    sim = await _open(ctx)
    request = cpb.SetLatencyRequest(
        session_id=selected, command_latency=_duration(commands), event_latency=_duration(events)
    )
    async with sim.control() as control:
        reply = await control.call("SetLatency", request, ctx.timeout)
    if _restore(ctx):
        undo = cpb.SetLatencyRequest(
            session_id=selected, command_latency=_duration(0), event_latency=_duration(0)
        )
        sim.push_undo(
            "sim latency off",
            selected or "all sessions",
            "SetLatency",
            undo,
            missing_ok=bool(selected),
        )
    scope = f"session {selected}" if selected else "every session"
    return StepOutcome(
        message=f"latency {commands:g} s on commands, {events:g} s on events for {scope} "
        f"({reply.affected} now open)"
    )


def _simple(
    method: str,
    build: Callable[[StepContext, str], Any],
    *,
    allow_all: bool,
    done: str,
) -> Callable[[StepContext], Awaitable[StepOutcome]]:
    """A step that makes one call on the selected session(s) and has nothing to undo."""

    async def run(ctx: StepContext) -> StepOutcome:
        selected = session_id(ctx, ctx.params.get("session"), allow_all=allow_all)
        sim = await _open(ctx)
        async with sim.control() as control:
            reply = await control.call(method, build(ctx, selected), ctx.timeout)
        scope = f"session {selected}" if selected else "every session"
        return StepOutcome(message=f"{done} ({scope}, affected {reply.affected})")

    return run


def _selector(ctx: StepContext, selected: str) -> cpb.SessionSelector:
    return cpb.SessionSelector(session_id=selected)


def _fault(ctx: StepContext, selected: str) -> cpb.FaultSessionRequest:
    message = str(ctx.params.get("message") or "faulted by sim-fault-session")
    return cpb.FaultSessionRequest(session_id=selected, message=message)


run_drop_streams = _simple("DropStreams", _selector, allow_all=True, done="event streams dropped")
run_kill_worker = _simple("KillWorker", _selector, allow_all=False, done="worker killed")
run_fault_session = _simple("FaultSession", _fault, allow_all=False, done="session faulted")
run_expire_session = _simple("ExpireSession", _selector, allow_all=False, done="session expired")


async def run_drop_write_completions(ctx: StepContext) -> StepOutcome:
    """Writes apply but send no write completion; cleanup delivers them again."""
    enabled = bool(ctx.params.get("enabled", True))
    selected = session_id(ctx, ctx.params.get("session"), allow_all=True)
    sim = await _open(ctx)
    request = cpb.DropWriteCompletionsRequest(session_id=selected, enabled=enabled)
    async with sim.control() as control:
        await control.call("DropWriteCompletions", request, ctx.timeout)
    if enabled and _restore(ctx):
        undo = cpb.DropWriteCompletionsRequest(session_id=selected, enabled=False)
        sim.push_undo(
            "sim deliver write completions",
            selected or "all sessions",
            "DropWriteCompletions",
            undo,
            missing_ok=bool(selected),
        )
    return StepOutcome(message="write completions " + ("dropped" if enabled else "delivered"))


async def run_reset(ctx: StepContext) -> StepOutcome:
    """Remove every injected fault and restore the galaxy's configured state."""
    sim = await _open(ctx)
    async with sim.control() as control:
        reply = await control.call("Reset", cpb.ResetRequest(), ctx.timeout)
    return StepOutcome(message=f"simulator reset ({reply.affected} attributes restored)")
