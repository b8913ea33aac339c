"""Helpers for galaxy and worker tests: a manual clock and a worker driven by real requests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from mxgateway import MxStatusCategory, MxStatusSource, from_mx_value, to_mx_value
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgw_sim.galaxy import GalaxyRuntime, default_galaxy, parse_galaxy
from mxgw_sim.worker import MxWorker, WorkerSettings

#: 2026-03-01T00:00:00Z: a round time well after the default epoch.
T0 = 1_772_323_200.0

OK = pb.PROTOCOL_STATUS_CODE_OK
MXACCESS_FAILURE = pb.PROTOCOL_STATUS_CODE_MXACCESS_FAILURE
DATA = pb.MX_EVENT_FAMILY_ON_DATA_CHANGE
WRITE = pb.MX_EVENT_FAMILY_ON_WRITE_COMPLETE
OPERATION = pb.MX_EVENT_FAMILY_OPERATION_COMPLETE
BUFFERED = pb.MX_EVENT_FAMILY_ON_BUFFERED_DATA_CHANGE
E_INVALIDARG = -2147024809


class ManualClock:
    """A clock tests move by hand, so behaviours are checked without sleeping."""

    def __init__(self, start: float = T0) -> None:
        self.time = start

    def __call__(self) -> float:
        return self.time

    def advance(self, seconds: float) -> float:
        """Move forward and return the new time."""
        self.time += seconds
        return self.time


def category(status: pb.MxStatusProxy) -> MxStatusCategory:
    """The status category as the client library names it."""
    return MxStatusCategory.from_wire(status.category)


def source(status: pb.MxStatusProxy) -> MxStatusSource:
    """Who detected the status."""
    return MxStatusSource.from_wire(status.detected_by)


class Harness:
    """One worker over one runtime, recording every event it sends."""

    def __init__(
        self,
        galaxy_text: str | None = None,
        *,
        clock: ManualClock | None = None,
        runtime: GalaxyRuntime | None = None,
        **settings: Any,
    ) -> None:
        galaxy = parse_galaxy(galaxy_text, "test.yaml") if galaxy_text else default_galaxy()
        self.clock = clock or ManualClock()
        self.runtime = runtime or GalaxyRuntime(galaxy, clock=self.clock)
        worker_settings = WorkerSettings.from_galaxy(self.runtime.settings, **settings)
        self.events: list[pb.MxEvent] = []
        self.worker = MxWorker(self.runtime, worker_settings, "session-test", on_event=self._record)
        self.handle = 0
        self._arrived: asyncio.Event | None = None

    def _record(self, event: pb.MxEvent) -> None:
        self.events.append(event)
        if self._arrived is not None:
            self._arrived.set()

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Wait (at most 5 s) until ``predicate()`` holds, re-checking as events arrive."""
        self._arrived = asyncio.Event()
        async with asyncio.timeout(5.0):
            while not predicate():
                self._arrived.clear()
                await self._arrived.wait()

    async def run(self, **payload: Any) -> pb.MxCommandReply:
        """Execute one command given as ``member=message``."""
        request = pb.MxCommandRequest(correlation_id="corr", **payload)
        return await self.worker.execute(request)

    async def settle(self) -> list[pb.MxEvent]:
        """Wait for scheduled events; returns all events so far."""
        await self.worker.settle()
        return self.events

    async def register(self, name: str = "test") -> int:
        reply = await self.run(register=pb.RegisterCommand(client_name=name))
        assert reply.protocol_status.code == OK
        self.handle = reply.register.server_handle
        return self.handle

    async def add(self, reference: str, context: str = "", *, handle: int | None = None) -> int:
        server = self.handle if handle is None else handle
        if context:
            cmd2 = pb.AddItem2Command(
                server_handle=server, item_reference=reference, context=context
            )
            reply = await self.run(add_item2=cmd2)
            assert reply.protocol_status.code == OK, reply
            return reply.add_item2.item_handle
        cmd = pb.AddItemCommand(server_handle=server, item_reference=reference)
        reply = await self.run(add_item=cmd)
        assert reply.protocol_status.code == OK, reply
        return reply.add_item.item_handle

    async def advise(self, item: int, *, supervisory: bool = False) -> pb.MxCommandReply:
        if supervisory:
            cmd = pb.AdviseSupervisoryCommand(server_handle=self.handle, item_handle=item)
            return await self.run(advise_supervisory=cmd)
        return await self.run(advise=pb.AdviseCommand(server_handle=self.handle, item_handle=item))

    async def subscribe(
        self, reference: str, context: str = "", *, supervisory: bool = False
    ) -> int:
        """AddItem + Advise, and wait for the initial data change."""
        item = await self.add(reference, context)
        reply = await self.advise(item, supervisory=supervisory)
        assert reply.protocol_status.code == OK, reply
        await self.settle()
        return item

    async def authenticate(self, user: str, password: str) -> int:
        cmd = pb.AuthenticateUserCommand(
            server_handle=self.handle, user_name=user, password=password
        )
        reply = await self.run(authenticate_user=cmd)
        assert reply.protocol_status.code == OK, reply
        return reply.authenticate_user.user_id

    async def write(
        self, item: int, value: Any, *, user: int = 0, type: str | None = None
    ) -> pb.MxCommandReply:
        cmd = pb.WriteCommand(
            server_handle=self.handle,
            item_handle=item,
            value=to_mx_value(value, type),
            user_id=user,
        )
        return await self.run(write=cmd)

    async def write_secured(
        self, item: int, value: Any, user: int, verifier: int
    ) -> pb.MxCommandReply:
        cmd = pb.WriteSecuredCommand(
            server_handle=self.handle,
            item_handle=item,
            value=to_mx_value(value),
            current_user_id=user,
            verifier_user_id=verifier,
        )
        return await self.run(write_secured=cmd)

    def of(self, item: int, family: int = DATA) -> list[pb.MxEvent]:
        """Events of one item (of this harness's server handle) and family."""
        return [
            e
            for e in self.events
            if e.item_handle == item and e.family == family and e.server_handle == self.handle
        ]

    def values(self, item: int) -> list[Any]:
        """Decoded values of an item's data changes, in order."""
        return [from_mx_value(e.value) for e in self.of(item)]

    async def write_outcome(
        self, item: int, value: Any, *, user: int = 0, verifier: int | None = None
    ) -> pb.MxStatusProxy:
        """Write (secured when ``verifier`` is given) and return the single completion status."""
        before = len(self.of(item, WRITE))
        if verifier is None:
            reply = await self.write(item, value, user=user)
        else:
            reply = await self.write_secured(item, value, user, verifier)
        assert reply.protocol_status.code == OK, reply
        await self.settle()
        completions = self.of(item, WRITE)[before:]
        assert len(completions) == 1, completions
        assert len(completions[0].statuses) == 1
        return completions[0].statuses[0]


def mx(value: Any, type: str | None = None) -> pb.MxValue:
    """Shorthand for ``to_mx_value``."""
    return to_mx_value(value, type)


def decoded(events: Sequence[pb.MxEvent]) -> list[Any]:
    """Decoded values of events."""
    return [from_mx_value(e.value) for e in events]
