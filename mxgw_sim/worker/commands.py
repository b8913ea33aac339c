"""Handlers of the single MXAccess commands: request in, reply out (refusals raise)."""

from __future__ import annotations

from typing import Any

from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgw_sim.worker.core import WorkerCore
from mxgw_sim.worker.replies import E_FAIL, failure_reply, int_value, new_reply
from mxgw_sim.worker.settings import WorkerSettings
from mxgw_sim.worker.writes import write_request

__all__ = ["SingleCommands"]


class SingleCommands:
    """``cmd_<payload member>(request, kind)`` for every single command."""

    def __init__(self, core: WorkerCore, settings: WorkerSettings) -> None:
        self._core = core
        self.settings = settings
        #: Fault: Register answers server handle 0.
        self.fail_register = False

    def _ok(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        return new_reply(request, kind, self.settings.success_value)

    def cmd_register(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        if self.fail_register:
            reply = failure_reply(request, kind, "Register failed (injected fault)", hresult=E_FAIL)
            reply.return_value.CopyFrom(int_value(0))
            reply.register.server_handle = 0
            return reply
        handle = self._core.register(request.register.client_name)
        reply = self._ok(request, kind)
        reply.return_value.CopyFrom(int_value(handle))
        reply.register.server_handle = handle
        return reply

    def cmd_unregister(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        self._core.unregister(request.unregister.server_handle)
        return self._ok(request, kind)

    def _item_reply(
        self, request: pb.MxCommandRequest, kind: int, handle: int
    ) -> pb.MxCommandReply:
        reply = self._ok(request, kind)
        reply.return_value.CopyFrom(int_value(handle))
        return reply

    def cmd_add_item(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        cmd = request.add_item
        handle = self._core.add_item(cmd.server_handle, cmd.item_reference)
        reply = self._item_reply(request, kind, handle)
        reply.add_item.item_handle = handle
        return reply

    def cmd_add_item2(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        cmd = request.add_item2
        handle = self._core.add_item(cmd.server_handle, cmd.item_reference, cmd.context)
        reply = self._item_reply(request, kind, handle)
        reply.add_item2.item_handle = handle
        return reply

    def cmd_add_buffered_item(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        cmd = request.add_buffered_item
        handle = self._core.add_item(
            cmd.server_handle, cmd.item_reference, cmd.context, buffered=True
        )
        reply = self._item_reply(request, kind, handle)
        reply.add_buffered_item.item_handle = handle
        return reply

    def cmd_remove_item(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        self._core.remove_item(request.remove_item.server_handle, request.remove_item.item_handle)
        return self._ok(request, kind)

    def cmd_advise(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        self._core.advise(request.advise.server_handle, request.advise.item_handle)
        return self._ok(request, kind)

    def cmd_advise_supervisory(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        cmd = request.advise_supervisory
        self._core.advise(cmd.server_handle, cmd.item_handle, supervisory=True)
        return self._ok(request, kind)

    def cmd_un_advise(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        self._core.unadvise(request.un_advise.server_handle, request.un_advise.item_handle)
        return self._ok(request, kind)

    def cmd_suspend(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        self._core.suspend(request.suspend.server_handle, request.suspend.item_handle)
        return self._ok(request, kind)

    def cmd_activate(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        self._core.activate(request.activate.server_handle, request.activate.item_handle)
        return self._ok(request, kind)

    def cmd_set_buffered_update_interval(
        self, request: pb.MxCommandRequest, kind: int
    ) -> pb.MxCommandReply:
        cmd = request.set_buffered_update_interval
        self._core.set_buffered_interval(cmd.server_handle, cmd.update_interval_ms)
        return self._ok(request, kind)

    def cmd_authenticate_user(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        cmd = request.authenticate_user
        user_id = self._core.authenticate(cmd.server_handle, cmd.user_name, cmd.password)
        reply = self._ok(request, kind)
        reply.return_value.CopyFrom(int_value(user_id))
        reply.authenticate_user.user_id = user_id
        if user_id == 0:
            reply.diagnostic_message = f"authentication failed for user {cmd.user_name!r}"
        return reply

    def cmd_archestra_user_to_id(
        self, request: pb.MxCommandRequest, kind: int
    ) -> pb.MxCommandReply:
        cmd = request.archestra_user_to_id
        user_id = self._core.user_to_id(cmd.server_handle, cmd.user_name)
        reply = self._ok(request, kind)
        reply.return_value.CopyFrom(int_value(user_id))
        reply.archestra_user_to_id.user_id = user_id
        return reply

    def _write(self, request: pb.MxCommandRequest, kind: int, command: Any) -> pb.MxCommandReply:
        """Any of the four single writes: ``command`` is the request's write payload."""
        self._core.write(command.server_handle, write_request(command))
        return self._ok(request, kind)

    def cmd_write(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        return self._write(request, kind, request.write)

    def cmd_write2(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        return self._write(request, kind, request.write2)

    def cmd_write_secured(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        return self._write(request, kind, request.write_secured)

    def cmd_write_secured2(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        return self._write(request, kind, request.write_secured2)
