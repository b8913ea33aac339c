"""The one reading of a write-family message, single command or bulk entry alike.

Write, Write2, WriteSecured and WriteSecured2 (and their bulk entries) differ only in
which fields they carry: secured writes name a current and a verifier user instead of
``user_id``, and the ``2`` forms add a timestamp. The message's own fields say which.
"""

from __future__ import annotations

from typing import Any

from mxgw_sim.worker.core import WriteRequest

__all__ = ["write_request"]


def write_request(message: Any) -> WriteRequest:
    """The :class:`WriteRequest` a write command or a bulk write entry asks for."""
    fields = message.DESCRIPTOR.fields_by_name
    timestamp = None
    if "timestamp_value" in fields and message.HasField("timestamp_value"):
        timestamp = message.timestamp_value
    if "current_user_id" in fields:
        return WriteRequest(
            message.item_handle,
            message.value,
            user_id=message.current_user_id,
            verifier_id=message.verifier_user_id,
            secured=True,
            timestamp=timestamp,
        )
    return WriteRequest(
        message.item_handle, message.value, user_id=message.user_id, timestamp=timestamp
    )
