"""Bulk commands of ``Session``: one round trip for a list, results in input order."""

# timeout= is the gRPC deadline passed to the call, not an asyncio timeout.
# ruff: noqa: ASYNC109

from __future__ import annotations

from collections.abc import Iterable, Sequence
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


class BulkCommands:
    """Mixin: the bulk helpers, built on ``Session._invoke``."""

    async def _invoke(
        self,
        kind: int,
        field: str,
        payload: Any,
        *,
        operation: str,
        timeout: Timeout,
        secrets: tuple[str | None, ...] = (),
    ) -> pb.MxCommandReply:
        raise NotImplementedError

    async def _subscribe_kind(
        self, kind: int, field: str, payload: Any, operation: str, timeout: Timeout
    ) -> list[SubscribeResult]:
        reply = await self._invoke(kind, field, payload, operation=operation, timeout=timeout)
        return [SubscribeResult.from_proto(r) for r in reply.bulk_subscribe.results]

    async def _write_kind(
        self, kind: int, field: str, payload: Any, operation: str, timeout: Timeout
    ) -> list[BulkWriteResult]:
        reply = await self._invoke(kind, field, payload, operation=operation, timeout=timeout)
        return [BulkWriteResult.from_proto(r) for r in reply.bulk_write.results]

    async def add_item_bulk(
        self, server_handle: int, items: Sequence[str], *, timeout: Timeout = UNSET
    ) -> list[SubscribeResult]:
        """AddItem for each reference."""
        msg = pb.AddItemBulkCommand(server_handle=server_handle, tag_addresses=list(items))
        return await self._subscribe_kind(
            K.MX_COMMAND_KIND_ADD_ITEM_BULK, "add_item_bulk", msg, "AddItemBulk", timeout
        )

    async def advise_item_bulk(
        self, server_handle: int, item_handles: Sequence[int], *, timeout: Timeout = UNSET
    ) -> list[SubscribeResult]:
        """Advise each item handle."""
        msg = pb.AdviseItemBulkCommand(server_handle=server_handle, item_handles=item_handles)
        return await self._subscribe_kind(
            K.MX_COMMAND_KIND_ADVISE_ITEM_BULK, "advise_item_bulk", msg, "AdviseItemBulk", timeout
        )

    async def remove_item_bulk(
        self, server_handle: int, item_handles: Sequence[int], *, timeout: Timeout = UNSET
    ) -> list[SubscribeResult]:
        """RemoveItem for each item handle."""
        msg = pb.RemoveItemBulkCommand(server_handle=server_handle, item_handles=item_handles)
        return await self._subscribe_kind(
            K.MX_COMMAND_KIND_REMOVE_ITEM_BULK, "remove_item_bulk", msg, "RemoveItemBulk", timeout
        )

    async def unadvise_item_bulk(
        self, server_handle: int, item_handles: Sequence[int], *, timeout: Timeout = UNSET
    ) -> list[SubscribeResult]:
        """UnAdvise each item handle."""
        msg = pb.UnAdviseItemBulkCommand(server_handle=server_handle, item_handles=item_handles)
        return await self._subscribe_kind(
            K.MX_COMMAND_KIND_UN_ADVISE_ITEM_BULK,
            "un_advise_item_bulk",
            msg,
            "UnAdviseItemBulk",
            timeout,
        )

    async def subscribe_bulk(
        self, server_handle: int, items: Sequence[str], *, timeout: Timeout = UNSET
    ) -> list[SubscribeResult]:
        """AddItem then Advise for each reference."""
        msg = pb.SubscribeBulkCommand(server_handle=server_handle, tag_addresses=list(items))
        return await self._subscribe_kind(
            K.MX_COMMAND_KIND_SUBSCRIBE_BULK, "subscribe_bulk", msg, "SubscribeBulk", timeout
        )

    async def unsubscribe_bulk(
        self, server_handle: int, item_handles: Sequence[int], *, timeout: Timeout = UNSET
    ) -> list[SubscribeResult]:
        """UnAdvise then RemoveItem for each item handle."""
        msg = pb.UnsubscribeBulkCommand(server_handle=server_handle, item_handles=item_handles)
        return await self._subscribe_kind(
            K.MX_COMMAND_KIND_UNSUBSCRIBE_BULK, "unsubscribe_bulk", msg, "UnsubscribeBulk", timeout
        )

    async def write_bulk(
        self, server_handle: int, entries: Iterable[EntryLike], *, timeout: Timeout = UNSET
    ) -> list[BulkWriteResult]:
        """Write each entry (``user_id`` from the entry)."""
        msg = pb.WriteBulkCommand(server_handle=server_handle)
        for i, e in enumerate(_entries(entries)):
            msg.entries.add(item_handle=e.item_handle, value=_value(e, i), user_id=e.user_id)
        return await self._write_kind(
            K.MX_COMMAND_KIND_WRITE_BULK, "write_bulk", msg, "WriteBulk", timeout
        )

    async def write2_bulk(
        self, server_handle: int, entries: Iterable[EntryLike], *, timeout: Timeout = UNSET
    ) -> list[BulkWriteResult]:
        """Write2 each entry (each needs a ``timestamp``)."""
        msg = pb.Write2BulkCommand(server_handle=server_handle)
        for i, e in enumerate(_entries(entries)):
            msg.entries.add(
                item_handle=e.item_handle,
                value=_value(e, i),
                user_id=e.user_id,
                timestamp_value=_timestamp(e, i),
            )
        return await self._write_kind(
            K.MX_COMMAND_KIND_WRITE2_BULK, "write2_bulk", msg, "Write2Bulk", timeout
        )

    async def write_secured_bulk(
        self, server_handle: int, entries: Iterable[EntryLike], *, timeout: Timeout = UNSET
    ) -> list[BulkWriteResult]:
        """WriteSecured each entry (``current_user_id`` / ``verifier_user_id``)."""
        msg = pb.WriteSecuredBulkCommand(server_handle=server_handle)
        for i, e in enumerate(_entries(entries)):
            msg.entries.add(
                item_handle=e.item_handle,
                value=_value(e, i),
                current_user_id=e.current_user_id,
                verifier_user_id=e.verifier_user_id,
            )
        return await self._write_kind(
            K.MX_COMMAND_KIND_WRITE_SECURED_BULK,
            "write_secured_bulk",
            msg,
            "WriteSecuredBulk",
            timeout,
        )

    async def write_secured2_bulk(
        self, server_handle: int, entries: Iterable[EntryLike], *, timeout: Timeout = UNSET
    ) -> list[BulkWriteResult]:
        """WriteSecured2 each entry (users and a ``timestamp``)."""
        msg = pb.WriteSecured2BulkCommand(server_handle=server_handle)
        for i, e in enumerate(_entries(entries)):
            msg.entries.add(
                item_handle=e.item_handle,
                value=_value(e, i),
                current_user_id=e.current_user_id,
                verifier_user_id=e.verifier_user_id,
                timestamp_value=_timestamp(e, i),
            )
        return await self._write_kind(
            K.MX_COMMAND_KIND_WRITE_SECURED2_BULK,
            "write_secured2_bulk",
            msg,
            "WriteSecured2Bulk",
            timeout,
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
        msg = pb.ReadBulkCommand(
            server_handle=server_handle, tag_addresses=list(items), timeout_ms=timeout_ms
        )
        reply = await self._invoke(
            K.MX_COMMAND_KIND_READ_BULK, "read_bulk", msg, operation="ReadBulk", timeout=timeout
        )
        return [BulkReadResult.from_proto(r) for r in reply.read_bulk.results]
