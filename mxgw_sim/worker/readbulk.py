"""ReadBulk: current values of a list of references, from the cache when advised."""

from __future__ import annotations

from mxgateway import MxStatusCategory, MxStatusSource
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgw_sim.galaxy.coerce import empty_value, encode
from mxgw_sim.galaxy.outcomes import (
    DETAIL_BARE_ARRAY,
    DETAIL_NOT_DEPLOYED,
    DETAIL_UNKNOWN_REFERENCE,
)
from mxgw_sim.galaxy.references import Unresolved, UnresolvedKind
from mxgw_sim.worker.core import WorkerCore
from mxgw_sim.worker.replies import ok_status, status
from mxgw_sim.worker.state import Connection, Item, project

__all__ = ["read_bulk"]


def _cached(conn: Connection, tag: str) -> Item | None:
    """An advised item of ``conn`` for ``tag`` whose last data change can answer."""
    lowered = tag.lower()
    for item in conn.items.values():
        if item.advised and item.last_event is not None and item.reference.lower() == lowered:
            return item
    return None


def read_bulk(core: WorkerCore, conn: Connection, tags: list[str], out: pb.BulkReadReply) -> None:
    """Fill ``out`` with one result per tag, in input order."""
    for tag in tags:
        result = out.results.add(tag_address=tag)
        item = _cached(conn, tag)
        if item is not None and item.last_event is not None:
            event = item.last_event
            result.item_handle = item.handle
            result.was_cached = True
            result.value.CopyFrom(event.value)
            result.quality = event.quality
            result.timestamp.CopyFrom(event.source_timestamp)
            result.statuses.extend(event.statuses)
            result.was_successful = bool(event.statuses) and event.statuses[0].success != 0
            if not result.was_successful and event.statuses:
                result.error_message = event.statuses[0].diagnostic_text
            continue
        target = core.runtime.resolve(tag)
        if isinstance(target, Unresolved):
            bare = target.kind is UnresolvedKind.BARE_ARRAY
            result.value.CopyFrom(empty_value())
            result.quality = core.settings.unknown_reference_quality
            result.timestamp.CopyFrom(core.runtime.timestamp(core.runtime.now()))
            result.statuses.append(
                status(
                    MxStatusCategory.COMMUNICATION_ERROR
                    if bare
                    else MxStatusCategory.CONFIGURATION_ERROR,
                    MxStatusSource.RESPONDING_LMX,
                    detail=DETAIL_BARE_ARRAY if bare else DETAIL_UNKNOWN_REFERENCE,
                    text=target.reason,
                )
            )
            result.was_successful = False
            result.error_message = target.reason
            continue
        shown = project(target, core.runtime.read(target.key))
        result.value.CopyFrom(encode(shown.value, shown.data_type, shown.is_array))
        result.quality = shown.quality
        result.timestamp.CopyFrom(core.runtime.timestamp(shown.timestamp))
        if shown.value is None:
            result.statuses.append(
                status(
                    MxStatusCategory.COMMUNICATION_ERROR,
                    MxStatusSource.RESPONDING_NMX,
                    detail=DETAIL_NOT_DEPLOYED,
                    text="the object is not deployed",
                )
            )
            result.error_message = "the object is not deployed"
        else:
            result.statuses.append(ok_status(core.settings.success_value))
            result.was_successful = True
