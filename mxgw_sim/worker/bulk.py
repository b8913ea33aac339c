"""Handlers of the bulk commands: entry by entry, per-entry results in input order.

An unknown server handle refuses the whole command; every other problem is one entry's
result (``was_successful`` false, the error message, HRESULT and statuses).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgw_sim.worker.core import AcceptedWrite, CommandRefused, WorkerCore
from mxgw_sim.worker.readbulk import read_bulk
from mxgw_sim.worker.replies import failure_reply, new_reply
from mxgw_sim.worker.settings import WorkerSettings
from mxgw_sim.worker.writes import write_request

__all__ = ["BulkCommands"]


class BulkCommands:
    """``cmd_<payload member>(request, kind)`` for every bulk command and ReadBulk."""

    def __init__(self, core: WorkerCore, settings: WorkerSettings) -> None:
        self._core = core
        self.settings = settings

    def _ok(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        return new_reply(request, kind, self.settings.success_value)

    def _subscribe_results(
        self,
        request: pb.MxCommandRequest,
        kind: int,
        server_handle: int,
        entries: list[Any],
        step: Callable[[Any], tuple[str, int]],
    ) -> pb.MxCommandReply:
        self._core.connection(server_handle)  # an unknown server handle refuses the whole call
        reply = self._ok(request, kind)
        results = reply.bulk_subscribe.results
        for entry in entries:
            result = results.add(server_handle=server_handle)
            if isinstance(entry, str):
                result.tag_address = entry
            else:
                result.item_handle = entry
                item = self._core.connections[server_handle].items.get(entry)
                result.tag_address = item.reference if item else ""
            try:
                tag, item_handle = step(entry)
            except CommandRefused as exc:
                result.was_successful = False
                result.error_message = exc.message
            else:
                result.tag_address = tag
                result.item_handle = item_handle
                result.was_successful = True
        return reply

    def _reference(self, server_handle: int, item_handle: int) -> str:
        item = self._core.connections[server_handle].items.get(item_handle)
        return item.reference if item else ""

    def cmd_add_item_bulk(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        c = request.add_item_bulk
        core = self._core

        def step(tag: str) -> tuple[str, int]:
            return tag, core.add_item(c.server_handle, tag)

        return self._subscribe_results(request, kind, c.server_handle, list(c.tag_addresses), step)

    def cmd_subscribe_bulk(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        c = request.subscribe_bulk
        core = self._core

        def step(tag: str) -> tuple[str, int]:
            handle = core.add_item(c.server_handle, tag)
            core.advise(c.server_handle, handle)
            return tag, handle

        return self._subscribe_results(request, kind, c.server_handle, list(c.tag_addresses), step)

    def _handle_bulk(
        self,
        request: pb.MxCommandRequest,
        kind: int,
        server_handle: int,
        handles: list[int],
        action: Callable[[int, int], None],
    ) -> pb.MxCommandReply:
        def step(item_handle: int) -> tuple[str, int]:
            tag = self._reference(server_handle, item_handle)
            action(server_handle, item_handle)
            return tag, item_handle

        return self._subscribe_results(request, kind, server_handle, handles, step)

    def cmd_advise_item_bulk(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        c = request.advise_item_bulk
        return self._handle_bulk(
            request, kind, c.server_handle, list(c.item_handles), self._core.advise
        )

    def cmd_un_advise_item_bulk(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        c = request.un_advise_item_bulk
        return self._handle_bulk(
            request, kind, c.server_handle, list(c.item_handles), self._core.unadvise
        )

    def cmd_remove_item_bulk(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        c = request.remove_item_bulk
        return self._handle_bulk(
            request, kind, c.server_handle, list(c.item_handles), self._core.remove_item
        )

    def cmd_unsubscribe_bulk(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        c = request.unsubscribe_bulk
        core = self._core

        def unsubscribe(server_handle: int, item_handle: int) -> None:
            item = core.item(core.connection(server_handle), item_handle)
            if item.advised:
                core.unadvise(server_handle, item_handle)
            core.remove_item(server_handle, item_handle)

        return self._handle_bulk(request, kind, c.server_handle, list(c.item_handles), unsubscribe)

    def _write_bulk(
        self, request: pb.MxCommandRequest, kind: int, command: Any
    ) -> pb.MxCommandReply:
        """Any of the four bulk writes: ``command`` is the request's bulk write payload."""
        server_handle = command.server_handle
        writes = [write_request(entry) for entry in command.entries]
        self._core.connection(server_handle)
        reply = self._ok(request, kind)
        ok: pb.MxStatusProxy | None = None  # the same for every accepted entry: made once
        accepted: list[AcceptedWrite] = []
        for write in writes:
            result = reply.bulk_write.results.add(item_handle=write.item_handle)
            try:
                self._core.write(server_handle, write, accepted)
            except CommandRefused as exc:
                result.was_successful = False
                result.error_message = exc.message
                result.hresult = exc.hresult
                result.statuses.extend(
                    failure_reply(
                        request, kind, exc.message, hresult=exc.hresult, statuses=exc.statuses
                    ).statuses
                )
            else:
                result.was_successful = True
                if ok is None:
                    ok = new_reply(request, kind, self.settings.success_value).statuses[0]
                result.statuses.append(ok)
        if accepted:
            self._core.complete_later(accepted)
        return reply

    def cmd_write_bulk(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        return self._write_bulk(request, kind, request.write_bulk)

    def cmd_write2_bulk(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        return self._write_bulk(request, kind, request.write2_bulk)

    def cmd_write_secured_bulk(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        return self._write_bulk(request, kind, request.write_secured_bulk)

    def cmd_write_secured2_bulk(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        return self._write_bulk(request, kind, request.write_secured2_bulk)

    def cmd_read_bulk(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        c = request.read_bulk
        conn = self._core.connection(c.server_handle)
        reply = self._ok(request, kind)
        read_bulk(self._core, conn, list(c.tag_addresses), reply.read_bulk)
        return reply
