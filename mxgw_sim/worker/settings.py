"""Settings of a worker: the MXAccess behaviours that are timings or informed guesses."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from mxgw_sim.galaxy.model import GalaxySettings

__all__ = ["WorkerSettings"]


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """How one worker behaves. Defaults come from the galaxy's ``settings:`` block.

    Fields marked "(likely)" model behaviour MXAccess documents nowhere; see docs/galaxy.md.
    """

    #: Seconds before the initial data change of the first Advise on a connection
    #: (real Galaxies: 3-8 s on a cold connection).
    first_event_delay: float = 0.0
    #: Seconds before the initial data change of later Advises (real: ~0.1 s).
    advise_delay: float = 0.0
    #: Send a Pending OnWriteComplete before the final one.
    pending_completion: bool = False
    #: Success flag of OK statuses: -1 as MXAccess sets it (upstream fixtures show 1).
    success_value: int = -1
    #: (likely) RemoveItem frees its handle for reuse; the lowest free handle is used next.
    reuse_item_handles: bool = True
    #: (likely) Activate re-sends the item's current value.
    activate_sends_current: bool = True
    #: (likely) Suspend and Activate finish with an OperationComplete event.
    operation_complete_on_suspend: bool = True
    #: Default interval of OnBufferedDataChange batches, seconds.
    buffered_update_interval: float = 1.0
    #: (likely) An unresolvable reference sends an error data change after Advise.
    unknown_reference_event: bool = True
    #: Quality of that data change (Bad; 4 is "configuration error").
    unknown_reference_quality: int = 4
    #: (likely) Items advised supervisory write without a user for Operate/Tune/Configure.
    supervisory_bypasses_security: bool = True
    #: "completion": a security refusal is an OnWriteComplete with SecurityError (MXACCESS.md);
    #: "reply": Write itself fails with MXACCESS_FAILURE and HRESULT 0x80040200 and the two
    #: statuses of upstream's golden refused-write reply.
    security_refusal: str = "completion"
    #: The first server handle Register returns; later ones count up.
    first_server_handle: int = 1

    @classmethod
    def from_galaxy(cls, settings: GalaxySettings, **overrides: Any) -> WorkerSettings:
        """Take every matching field from the galaxy's settings, then ``overrides``."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {
            f.name: getattr(settings, f.name)
            for f in dataclasses.fields(settings)
            if f.name in names
        }
        values.update(overrides)
        return cls(**values)
