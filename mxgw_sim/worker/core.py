"""Writes: checked at once (Write may refuse), completed later by one OnWriteComplete.

:class:`WorkerCore` is the whole MXAccess state machine of a worker: the connection and item
handling of :class:`ItemCore` plus the write path. :class:`mxgw_sim.worker.MxWorker` turns
requests into these calls and results into replies.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from mxgateway import MxStatusCategory, MxStatusSource, from_mx_value
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgw_sim.galaxy.coerce import CoercionError, decode_written
from mxgw_sim.galaxy.model import User
from mxgw_sim.galaxy.outcomes import (
    DETAIL_CONVERSION,
    DETAIL_READ_ONLY,
    DETAIL_SECURITY,
    WriteOutcome,
)
from mxgw_sim.galaxy.references import Resolved
from mxgw_sim.galaxy.security import WriteContext
from mxgw_sim.wire import int32_field, varint
from mxgw_sim.worker.fanout import handle_fields as _handle_fields
from mxgw_sim.worker.items import FAMILY_WRITE, CommandRefused, ItemCore
from mxgw_sim.worker.replies import MX_E_WRITE_REFUSED, ok_status, status
from mxgw_sim.worker.state import Connection, Item

__all__ = ["AcceptedWrite", "CommandRefused", "WorkerCore", "WriteRequest"]

_log = logging.getLogger(__name__)
#: A write checked and accepted, waiting for its completion.
AcceptedWrite = tuple[Connection, Item, Resolved, pb.MxValue, WriteContext]

#: Field 1 (family) of a write completion and field 21 (its empty body), on the wire.
_FAMILY_WRITE_FIELD = int32_field(1, FAMILY_WRITE)
_WRITE_BODY = b"\xaa\x01\x00"


class WriteRequest:
    """One write as the commands give it (Write, Write2, WriteSecured, bulk entries)."""

    __slots__ = ("item_handle", "secured", "timestamp", "user_id", "value", "verifier_id")

    def __init__(
        self,
        item_handle: int,
        value: pb.MxValue,
        *,
        user_id: int = 0,
        verifier_id: int = 0,
        secured: bool = False,
        timestamp: pb.MxValue | None = None,
    ) -> None:
        self.item_handle = item_handle
        self.value = value
        self.user_id = user_id
        self.verifier_id = verifier_id
        self.secured = secured
        self.timestamp = timestamp


class WorkerCore(ItemCore):
    """Connections, items and writes of one session."""

    _ok_write: tuple[int, bytes] | None = None

    def _ok_write_field(self) -> bytes:
        """Field 7 of a successful write's completion (one OK status) on the wire, for the
        current success value."""
        success = self.settings.success_value
        cached = self._ok_write
        if cached is None or cached[0] != success:
            data = ok_status(
                success, MxStatusSource.RESPONDING_AUTOMATION_OBJECT
            ).SerializeToString()
            cached = self._ok_write = (success, b"\x3a" + varint(len(data)) + data)
        return cached[1]

    # ------------------------------------------------------------------ writes

    def write(
        self, handle: int, request: WriteRequest, accepted: list[AcceptedWrite] | None = None
    ) -> None:
        """Check and accept a write; its outcome comes later as one OnWriteComplete.

        With ``accepted`` the write is only added to it, for :meth:`complete_later` to
        complete with the others (a bulk write: one task for all its values).
        """
        conn = self.connection(handle)
        item = self.item(conn, request.item_handle)
        if not item.type_known or not isinstance(item.target, Resolved):
            raise CommandRefused(
                f"item {item.handle} ({item.reference}) has no data type yet: "
                "wait for its first data change before writing"
            )
        stamp: float | None = None
        if request.timestamp is not None and request.timestamp.WhichOneof("kind") is not None:
            when = from_mx_value(request.timestamp)
            if not isinstance(when, datetime):
                raise CommandRefused("the write timestamp must be a Time value")
            stamp = when.timestamp()
        ctx = self._context(conn, item, request, stamp)
        target = item.target
        if self.settings.security_refusal == "reply":
            refusal = self.runtime.check_security(target, ctx)
            if not refusal.ok:
                raise CommandRefused(
                    f"write refused: {refusal.reason}",
                    MX_E_WRITE_REFUSED,
                    [
                        status(
                            MxStatusCategory.SECURITY_ERROR,
                            MxStatusSource.RESPONDING_LMX,
                            detail=DETAIL_SECURITY,
                            text=refusal.reason,
                        ),
                        status(
                            MxStatusCategory.OPERATIONAL_ERROR,
                            MxStatusSource.RESPONDING_NMX,
                            detail=DETAIL_READ_ONLY,
                        ),
                    ],
                )
        write = (conn, item, target, request.value, ctx)
        if accepted is not None:
            accepted.append(write)
        else:
            self.complete_later([write])

    def complete_later(self, writes: list[AcceptedWrite]) -> None:
        """Complete accepted writes, in order, once the command's reply is on its way."""
        self.spawn(self._complete_writes(writes))

    async def _complete_writes(self, writes: list[AcceptedWrite]) -> None:
        await asyncio.sleep(0)
        for write in writes:
            try:
                self._complete_write(*write)
            except Exception:  # one failing write must not lose the others' completions
                _log.exception("completing a write failed")

    def _context(
        self, conn: Connection, item: Item, request: WriteRequest, stamp: float | None
    ) -> WriteContext:
        security = self.runtime.galaxy.security.enabled
        unknown = False

        def user(user_id: int) -> User | None:
            nonlocal unknown
            if user_id == 0:
                return None
            found = conn.users.get(user_id)
            if found is None and security:
                unknown = True
            return found

        current = user(request.user_id)
        verifier = user(request.verifier_id) if request.secured else None
        return WriteContext(
            user=current,
            verifier=verifier,
            secured=request.secured,
            supervisory=item.supervisory and self.settings.supervisory_bypasses_security,
            unknown_user=unknown,
            timestamp=stamp,
        )

    def _complete_write(
        self, conn: Connection, item: Item, target: Resolved, value: pb.MxValue, ctx: WriteContext
    ) -> None:
        if self.settings.pending_completion and not self.drop_write_completions:
            pending = self._event(FAMILY_WRITE, conn, item)
            pending.statuses.append(
                status(
                    MxStatusCategory.PENDING,
                    MxStatusSource.RESPONDING_AUTOMATION_OBJECT,
                    success=self.settings.success_value,
                )
            )
            pending.on_write_complete.SetInParent()
            self.pump.put(pending)
        try:
            python_value = decode_written(value)
        except CoercionError as exc:
            outcome = WriteOutcome(
                MxStatusCategory.SOFTWARE_ERROR,
                MxStatusSource.RESPONDING_AUTOMATION_OBJECT,
                DETAIL_CONVERSION,
                str(exc),
            )
        else:
            outcome = self.runtime.write(target, python_value, ctx)
        if self.drop_write_completions:
            return
        if outcome.ok:
            # The common case goes as bytes, like data changes: the same fields, cached.
            head = _handle_fields(conn.handle, item.handle)
            self.pump.put_change(_FAMILY_WRITE_FIELD, [head], self._ok_write_field(), _WRITE_BODY)
            return
        event = self._event(FAMILY_WRITE, conn, item)
        event.statuses.append(
            status(
                outcome.category,
                outcome.detected_by,
                detail=outcome.detail,
                text=outcome.reason,
            )
        )
        event.on_write_complete.SetInParent()
        self.pump.put(event)
