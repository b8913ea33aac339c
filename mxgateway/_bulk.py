"""Bulk commands of ``Session``: one round trip for a list, results in input order."""

# timeout= is the gRPC deadline passed to the call, not an asyncio timeout.
# ruff: noqa: ASYNC109

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mxgateway._errors import ValueConversionError
from mxgateway._options import UNSET
from mxgateway._results import BulkReadResult, BulkWriteResult, SubscribeResult, WriteEntry
from mxgateway._values import to_mx_value
from mxgateway.generated import mxaccess_gateway_pb2 as pb

if TYPE_CHECKING:
    from mxgateway._client import Timeout

__all__ = ["BulkCommands"]

K = pb.MxCommandKind
EntryLike = WriteEntry | tuple[int, Any]


def _entries(entries: Iterable[EntryLike]) -> list[WriteEntry]:
    result = []
    for index, entry in enumerate(entries):
        if isinstance(entry, WriteEntry):
            result.append(entry)
        elif isinstance(entry, tuple) and len(entry) == 2:
            result.append(WriteEntry(int(entry[0]), entry[1]))
        else:
            raise ValueConversionError(
                f"entry {index}: expected a WriteEntry or an (item_handle, value) pair"
            )
    return result


def _value(entry: WriteEntry, index: int) -> pb.MxValue:
    try:
        return to_mx_value(entry.value, entry.type)
    except ValueConversionError as exc:
        raise ValueConversionError(f"entry {index} (item {entry.item_handle}): {exc}") from None


def _timestamp(entry: WriteEntry, index: int) -> pb.MxValue:
    if entry.timestamp is None:
        raise ValueConversionError(
            f"entry {index} (item {entry.item_handle}): this write needs a timestamp"
        )
    return to_mx_value(entry.timestamp, "time")


@dataclass(frozen=True, slots=True)
class _Command:
    """One bulk command's wire names: its kind, its request field, operation and message."""

    kind: int
    field: str
    operation: str
    message: Callable[..., Any]

    @classmethod
    def named(cls, operation: str) -> _Command:
        """The command the gateway calls ``operation`` (``UnAdviseItemBulk``).

        The proto names every bulk command alike: message ``<operation>Command``,
        request field and kind the operation in snake case (``un_advise_item_bulk``,
        ``MX_COMMAND_KIND_UN_ADVISE_ITEM_BULK``); a name that breaks that rule fails
        on import, not on the first call.
        """
        field = re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()
        if field not in pb.MxCommandRequest.DESCRIPTOR.fields_by_name:
            raise LookupError(f"MxCommandRequest has no field {field} for {operation}")
        kind = K.Value(f"MX_COMMAND_KIND_{field.upper()}")
        return cls(kind, field, operation, getattr(pb, f"{operation}Command"))


_ADD_ITEM = _Command.named("AddItemBulk")
_ADVISE = _Command.named("AdviseItemBulk")
_REMOVE_ITEM = _Command.named("RemoveItemBulk")
_UNADVISE = _Command.named("UnAdviseItemBulk")
_SUBSCRIBE = _Command.named("SubscribeBulk")
_UNSUBSCRIBE = _Command.named("UnsubscribeBulk")
_WRITE = _Command.named("WriteBulk")
_WRITE2 = _Command.named("Write2Bulk")
_WRITE_SECURED = _Command.named("WriteSecuredBulk")
_WRITE_SECURED2 = _Command.named("WriteSecured2Bulk")
_READ = _Command.named("ReadBulk")


class BulkCommands:
    """Mixin: the bulk helpers, built on ``Session._invoke``."""

    #: ``Session._invoke``: send one command, raise the typed error of a failed reply.
    _invoke: Callable[..., Awaitable[pb.MxCommandReply]]

    async def _send(self, command: _Command, payload: Any, timeout: Timeout) -> pb.MxCommandReply:
        """Send one bulk command and return its (successful) reply."""
        return await self._invoke(
            command.kind, command.field, payload, operation=command.operation, timeout=timeout
        )

    async def _subscribe(
        self, command: _Command, timeout: Timeout, **fields: Any
    ) -> list[SubscribeResult]:
        """A command of the subscribe family (add, advise, remove...): one result per item."""
        reply = await self._send(command, command.message(**fields), timeout)
        return [SubscribeResult.from_proto(r) for r in reply.bulk_subscribe.results]

    async def _write(
        self,
        command: _Command,
        server_handle: int,
        entries: Iterable[EntryLike],
        timeout: Timeout,
        *,
        secured: bool,
        timed: bool,
    ) -> list[BulkWriteResult]:
        """A command of the write family: ``secured`` sends the two users instead of
        ``user_id``; ``timed`` adds each entry's timestamp."""
        msg = command.message(server_handle=server_handle)
        for i, e in enumerate(_entries(entries)):
            fields: dict[str, Any] = {"item_handle": e.item_handle, "value": _value(e, i)}
            if secured:
                fields["current_user_id"] = e.current_user_id
                fields["verifier_user_id"] = e.verifier_user_id
            else:
                fields["user_id"] = e.user_id
            if timed:
                fields["timestamp_value"] = _timestamp(e, i)
            msg.entries.add(**fields)
        reply = await self._send(command, msg, timeout)
        return [BulkWriteResult.from_proto(r) for r in reply.bulk_write.results]

    async def add_item_bulk(
        self, server_handle: int, items: Sequence[str], *, timeout: Timeout = UNSET
    ) -> list[SubscribeResult]:
        """AddItem for each reference."""
        return await self._subscribe(
            _ADD_ITEM, timeout, server_handle=server_handle, tag_addresses=list(items)
        )

    async def advise_item_bulk(
        self, server_handle: int, item_handles: Sequence[int], *, timeout: Timeout = UNSET
    ) -> list[SubscribeResult]:
        """Advise each item handle."""
        return await self._subscribe(
            _ADVISE, timeout, server_handle=server_handle, item_handles=item_handles
        )

    async def remove_item_bulk(
        self, server_handle: int, item_handles: Sequence[int], *, timeout: Timeout = UNSET
    ) -> list[SubscribeResult]:
        """RemoveItem for each item handle."""
        return await self._subscribe(
            _REMOVE_ITEM, timeout, server_handle=server_handle, item_handles=item_handles
        )

    async def unadvise_item_bulk(
        self, server_handle: int, item_handles: Sequence[int], *, timeout: Timeout = UNSET
    ) -> list[SubscribeResult]:
        """UnAdvise each item handle."""
        return await self._subscribe(
            _UNADVISE, timeout, server_handle=server_handle, item_handles=item_handles
        )

    async def subscribe_bulk(
        self, server_handle: int, items: Sequence[str], *, timeout: Timeout = UNSET
    ) -> list[SubscribeResult]:
        """AddItem then Advise for each reference."""
        return await self._subscribe(
            _SUBSCRIBE, timeout, server_handle=server_handle, tag_addresses=list(items)
        )

    async def unsubscribe_bulk(
        self, server_handle: int, item_handles: Sequence[int], *, timeout: Timeout = UNSET
    ) -> list[SubscribeResult]:
        """UnAdvise then RemoveItem for each item handle."""
        return await self._subscribe(
            _UNSUBSCRIBE, timeout, server_handle=server_handle, item_handles=item_handles
        )

    async def write_bulk(
        self, server_handle: int, entries: Iterable[EntryLike], *, timeout: Timeout = UNSET
    ) -> list[BulkWriteResult]:
        """Write each entry (``user_id`` from the entry)."""
        return await self._write(
            _WRITE, server_handle, entries, timeout, secured=False, timed=False
        )

    async def write2_bulk(
        self, server_handle: int, entries: Iterable[EntryLike], *, timeout: Timeout = UNSET
    ) -> list[BulkWriteResult]:
        """Write2 each entry (each needs a ``timestamp``)."""
        return await self._write(
            _WRITE2, server_handle, entries, timeout, secured=False, timed=True
        )

    async def write_secured_bulk(
        self, server_handle: int, entries: Iterable[EntryLike], *, timeout: Timeout = UNSET
    ) -> list[BulkWriteResult]:
        """WriteSecured each entry (``current_user_id`` / ``verifier_user_id``)."""
        return await self._write(
            _WRITE_SECURED, server_handle, entries, timeout, secured=True, timed=False
        )

    async def write_secured2_bulk(
        self, server_handle: int, entries: Iterable[EntryLike], *, timeout: Timeout = UNSET
    ) -> list[BulkWriteResult]:
        """WriteSecured2 each entry (users and a ``timestamp``)."""
        return await self._write(
            _WRITE_SECURED2, server_handle, entries, timeout, secured=True, timed=True
        )

    async def read_bulk(
        self,
        server_handle: int,
        items: Sequence[str],
        *,
        timeout_ms: int = 0,
        timeout: Timeout = UNSET,
    ) -> list[BulkReadResult]:
        """Current values of item references (``timeout_ms`` per uncached value; 0 = the
        gateway default). Served from the cache when an item is already advised."""
        msg = _READ.message(
            server_handle=server_handle, tag_addresses=list(items), timeout_ms=timeout_ms
        )
        reply = await self._send(_READ, msg, timeout)
        return [BulkReadResult.from_proto(r) for r in reply.read_bulk.results]
