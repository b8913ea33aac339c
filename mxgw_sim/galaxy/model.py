"""The simulated Galaxy as plain, frozen data: what the loader builds from a galaxy file.

Nothing here changes at run time; :mod:`mxgw_sim.galaxy.runtime` keeps the live state.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mxgateway import MxDataType

__all__ = [
    "DEFAULT_EPOCH",
    "AttributeDef",
    "Behaviour",
    "Classification",
    "Follows",
    "Galaxy",
    "GalaxySettings",
    "LinkState",
    "ObjectDef",
    "Permission",
    "Ramp",
    "RandomWalk",
    "SecurityConfig",
    "Sine",
    "Static",
    "Toggle",
    "User",
]


#: 2026-01-01T00:00:00Z, the default epoch of behaviours.
DEFAULT_EPOCH = 1_767_225_600.0


class Classification(enum.Enum):
    """ArchestrA security classification of an attribute (who may write it)."""

    FREE_ACCESS = "FreeAccess"
    OPERATE = "Operate"
    SECURED_WRITE = "SecuredWrite"
    VERIFIED_WRITE = "VerifiedWrite"
    TUNE = "Tune"
    CONFIGURE = "Configure"
    VIEW_ONLY = "ViewOnly"

    @property
    def mx_number(self) -> int:
        """The number MXAccess uses for it in a SecurityClassificationEnum value."""
        return _CLASSIFICATION_NUMBERS[self]


_CLASSIFICATION_NUMBERS = {
    Classification.FREE_ACCESS: 0,
    Classification.OPERATE: 1,
    Classification.SECURED_WRITE: 2,
    Classification.VERIFIED_WRITE: 3,
    Classification.TUNE: 4,
    Classification.CONFIGURE: 5,
    Classification.VIEW_ONLY: 6,
}


class Permission(enum.Enum):
    """What a Galaxy user may do; see docs/galaxy.md for which classification needs which."""

    OPERATE = "operate"
    TUNE = "tune"
    CONFIGURE = "configure"
    SECURED_WRITE = "secured-write"
    VERIFY = "verify"


@dataclass(frozen=True, slots=True)
class User:
    """A Galaxy user. ``repr`` never shows the password."""

    name: str
    password: str = field(repr=False)
    permissions: frozenset[Permission] = frozenset()


@dataclass(frozen=True, slots=True)
class SecurityConfig:
    """Galaxy security: off means any credentials authenticate (as user id 1)."""

    enabled: bool = False
    users: tuple[User, ...] = ()

    def user(self, name: str) -> User | None:
        """The user called ``name`` (case-insensitive, as ArchestrA compares names)."""
        for user in self.users:
            if user.name.lower() == name.lower():
                return user
        return None


@dataclass(frozen=True, slots=True)
class GalaxySettings:
    """Galaxy-wide knobs, including the MXAccess behaviours that are informed guesses."""

    #: "utc" or "local": how source timestamps are reported.
    timestamps: str = "utc"
    #: Fixed offset (seconds) used for "local" timestamps; None uses the host's zone.
    local_offset: float | None = None
    #: Delay of the initial data change of the first Advise on a connection (cold start).
    first_event_delay: float = 0.0
    #: Delay of the initial data change of later Advises.
    advise_delay: float = 0.0
    #: Send an OnWriteComplete with category Pending before the final one.
    pending_completion: bool = False
    #: Default period between updates of attributes with a dynamic behaviour.
    update_rate: float = 1.0
    #: Unix time the behaviours count from; shared by replicas so they agree.
    epoch: float = DEFAULT_EPOCH
    #: Quality reported for attributes of undeployed objects (0 or 4).
    undeployed_quality: int = 0
    #: Quality reported after Advise of a reference that does not resolve.
    unknown_reference_quality: int = 4
    #: Whether an unresolved reference sends a data change after Advise at all.
    unknown_reference_event: bool = True
    #: Items advised with AdviseSupervisory skip user-permission checks.
    supervisory_bypasses_security: bool = True
    #: Activate sends the current value of the item again.
    activate_sends_current: bool = True
    #: Suspend and Activate finish with an OperationComplete event.
    operation_complete_on_suspend: bool = True
    #: Item handles freed by RemoveItem are handed out again (lowest first).
    reuse_item_handles: bool = True
    #: Default interval of buffered data change batches, seconds.
    buffered_update_interval: float = 1.0
    #: The MXAccess success flag used in OK statuses (-1; upstream fixtures show 1).
    success_value: int = -1
    #: Where a write refused by security shows: "completion" (an OnWriteComplete with
    #: SecurityError) or "reply" (Write itself fails, as in upstream's golden reply).
    security_refusal: str = "completion"


@dataclass(frozen=True, slots=True)
class Static:
    """The value only changes when written."""


@dataclass(frozen=True, slots=True)
class Ramp:
    """Sawtooth from ``min`` to ``max`` over ``period`` seconds, then back to ``min``."""

    min: float
    max: float
    period: float


@dataclass(frozen=True, slots=True)
class Sine:
    """``offset + amplitude * sin(2π t / period)``."""

    amplitude: float
    offset: float
    period: float


@dataclass(frozen=True, slots=True)
class RandomWalk:
    """A seeded random walk within ``[min, max]``; the same seed gives the same path."""

    seed: int
    step: float
    min: float
    max: float


@dataclass(frozen=True, slots=True)
class Toggle:
    """Flips between false and true (0 and 1) every ``period`` seconds."""

    period: float


@dataclass(frozen=True, slots=True)
class Follows:
    """Tracks ``source`` with a first-order ``lag`` (``mode: lag``) or a pure ``delay``."""

    source: str
    lag: float
    mode: str = "lag"
    gain: float = 1.0
    offset: float = 0.0


Behaviour = Static | Ramp | Sine | RandomWalk | Toggle | Follows


@dataclass(frozen=True, slots=True)
class AttributeDef:
    """One attribute of an object: type, initial value, security and behaviour."""

    name: str
    data_type: MxDataType
    is_array: bool = False
    length: int = 0
    value: Any = None
    quality: int = 192
    classification: Classification = Classification.FREE_ACCESS
    writable: bool = True
    behaviour: Behaviour = field(default_factory=Static)
    update_rate: float | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class LinkState:
    """The field-device link of an object; a broken link sets ``quality_on_fault``."""

    connected: bool = True
    quality_on_fault: int = 24


@dataclass(frozen=True, slots=True)
class ObjectDef:
    """An automation object (or an area); ``name`` is the full hierarchical name."""

    name: str
    area: str
    container: str | None = None
    on_scan: bool = True
    deployed: bool = True
    link: LinkState = field(default_factory=LinkState)
    attributes: Mapping[str, AttributeDef] = field(default_factory=dict)
    is_area: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class Galaxy:
    """A whole galaxy: settings, security and every object by full name."""

    name: str = "Galaxy"
    settings: GalaxySettings = field(default_factory=GalaxySettings)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    objects: Mapping[str, ObjectDef] = field(default_factory=dict)
    source: str = "<memory>"
    _by_lower: dict[str, ObjectDef] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {name.lower(): obj for name, obj in self.objects.items()}
        object.__setattr__(self, "_by_lower", index)

    def object(self, name: str) -> ObjectDef | None:
        """The object with this full name (case-insensitive, as Galaxy names are)."""
        found = self.objects.get(name)
        return found if found is not None else self._by_lower.get(name.lower())

    def attributes(self) -> Iterator[tuple[ObjectDef, AttributeDef]]:
        """Every (object, attribute) pair, in file order."""
        for obj in self.objects.values():
            for attr in obj.attributes.values():
                yield obj, attr
