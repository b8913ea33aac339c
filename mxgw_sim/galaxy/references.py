"""Item references as MXAccess reads them, resolved against a galaxy.

``Object.Attribute``, contained names (``Tank01.Inlet.PV``), properties (``.Value``,
``.Quality``), bit fields ``.00``-``.31`` on integers, ``Attr[]`` (whole array) and
``Attr[n]`` (1-based), and relative names (``Me.``, ``MyContainer.``, ``MyArea.``) resolved
against an AddItem2 context. Identifiers are at most 32 characters, a reference at most 329.

Resolution never raises: MXAccess accepts any reference in AddItem and reports the problem
after Advise, so an unresolvable reference becomes an :class:`Unresolved` that says how it
will show up (configuration error, or the communication error 1003 of a bare array name).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from mxgateway import MxDataType
from mxgw_sim.galaxy.model import AttributeDef, Galaxy, ObjectDef

__all__ = [
    "MAX_IDENTIFIER",
    "MAX_REFERENCE",
    "Resolved",
    "Selector",
    "Unresolved",
    "UnresolvedKind",
    "resolve_reference",
]

MAX_IDENTIFIER = 32
MAX_REFERENCE = 329

_SEGMENT = re.compile(r"^(?P<name>[A-Za-z0-9_$#@!%&-]+)(?P<index>\[(?P<number>\d*)\])?$")
_BIT = re.compile(r"^\d\d$")
_RELATIVE = {"me", "mycontainer", "myarea", "myengine", "myplatform"}


class Selector(enum.Enum):
    """Which part of an attribute an item reads."""

    VALUE = "value"
    ELEMENT = "element"
    WHOLE_ARRAY = "array"
    BIT = "bit"
    QUALITY = "quality"


class UnresolvedKind(enum.Enum):
    """How an unresolvable reference shows up after Advise."""

    #: Unknown object or attribute, malformed text: ConfigurationError, quality Bad.
    CONFIGURATION = "configuration"
    #: An array attribute named without brackets: CommunicationError, detail 1003.
    BARE_ARRAY = "bare-array"


@dataclass(frozen=True, slots=True)
class Resolved:
    """A reference that names (part of) an attribute."""

    reference: str
    object: ObjectDef
    attribute: AttributeDef
    selector: Selector = Selector.VALUE
    #: 1-based element for ELEMENT (and for a BIT of an element); 0 otherwise.
    index: int = 0
    #: Bit number for BIT.
    bit: int = 0

    @property
    def key(self) -> tuple[str, str]:
        """(object name, attribute name): what the runtime keys live state by."""
        return (self.object.name, self.attribute.name)

    @property
    def data_type(self) -> MxDataType:
        """The MXAccess type of what this item delivers."""
        if self.selector is Selector.BIT:
            return MxDataType.BOOLEAN
        if self.selector is Selector.QUALITY:
            return MxDataType.INTEGER
        return self.attribute.data_type

    @property
    def is_array(self) -> bool:
        """True when the item delivers the whole array."""
        return self.selector is Selector.WHOLE_ARRAY


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A reference that names nothing; ``reason`` says why, for diagnostics."""

    reference: str
    kind: UnresolvedKind
    reason: str


def _split(text: str) -> list[tuple[str, str | None]] | str:
    """Segments as (name, index text or None); a string is a syntax error."""
    if not text:
        return "empty reference"
    if len(text) > MAX_REFERENCE:
        return f"reference longer than {MAX_REFERENCE} characters"
    out: list[tuple[str, str | None]] = []
    for part in text.split("."):
        match = _SEGMENT.match(part)
        if match is None:
            return f"malformed name {part!r}"
        name = match.group("name")
        if len(name) > MAX_IDENTIFIER:
            return f"identifier {name!r} longer than {MAX_IDENTIFIER} characters"
        out.append((name, match.group("number") if match.group("index") else None))
    return out


def _relative(galaxy: Galaxy, first: str, context: str | None) -> ObjectDef | str:
    """The object a relative first segment stands for, or why it cannot be resolved."""
    if not context:
        return f"relative name {first!r} needs a context (use AddItem2)"
    base = galaxy.object(context)
    if base is None:
        return f"context object {context!r} does not exist"
    key = first.lower()
    if key == "me":
        return base
    if key == "mycontainer":
        container = galaxy.object(base.container) if base.container else None
        return container if container else f"{base.name} has no container"
    if key == "myarea":
        area = galaxy.object(base.area)
        return area if area else f"{base.name} has no area"
    return f"{first} is not modelled by the simulator"


def resolve_reference(
    galaxy: Galaxy, reference: str, context: str | None = None
) -> Resolved | Unresolved:
    """Resolve ``reference`` (with an optional AddItem2 ``context``) against ``galaxy``."""
    parts = _split(reference)
    if isinstance(parts, str):
        return Unresolved(reference, UnresolvedKind.CONFIGURATION, parts)
    if parts[0][0].lower() in _RELATIVE and parts[0][1] is None:
        base = _relative(galaxy, parts[0][0], context)
        if isinstance(base, str):
            return Unresolved(reference, UnresolvedKind.CONFIGURATION, base)
        parts = [(n, None) for n in base.name.split(".")] + parts[1:]
    # Prefixes (without indexes) naming an object, longest first; the first that leaves a
    # resolvable attribute wins, else the longest one's reason.
    first: Unresolved | None = None
    for split in range(len(parts) - 1, 0, -1):
        prefix = parts[:split]
        if any(index is not None for _, index in prefix):
            continue
        obj = galaxy.object(".".join(name for name, _ in prefix))
        if obj is None:
            continue
        found = _attribute(reference, obj, parts[split:])
        if isinstance(found, Resolved):
            return found
        first = first or found
    if all(index is None for _, index in parts) and galaxy.object(".".join(n for n, _ in parts)):
        return Unresolved(
            reference, UnresolvedKind.CONFIGURATION, "names an object, not an attribute"
        )
    return first or Unresolved(reference, UnresolvedKind.CONFIGURATION, "no such object")


def _find_attribute(obj: ObjectDef, name: str) -> AttributeDef | None:
    found = obj.attributes.get(name)
    if found is not None:
        return found
    lowered = name.lower()
    for key, attr in obj.attributes.items():
        if key.lower() == lowered:
            return attr
    return None


def _attribute(
    reference: str, obj: ObjectDef, rest: list[tuple[str, str | None]]
) -> Resolved | Unresolved:
    attr = _find_attribute(obj, ".".join(name for name, _ in rest))
    if attr is not None:
        return _indexed(reference, obj, attr, rest[-1][1], Selector.VALUE, 0)
    if len(rest) < 2 or rest[-1][1] is not None:
        return Unresolved(
            reference, UnresolvedKind.CONFIGURATION, f"{obj.name} has no such attribute"
        )
    prop = rest[-1][0]
    attr = _find_attribute(obj, ".".join(name for name, _ in rest[:-1]))
    if attr is None:
        return Unresolved(
            reference, UnresolvedKind.CONFIGURATION, f"{obj.name} has no such attribute"
        )
    index_text = rest[-2][1]
    if prop.lower() == "value":
        return _indexed(reference, obj, attr, index_text, Selector.VALUE, 0)
    if prop.lower() == "quality":
        if index_text is not None and index_text == "" and not attr.is_array:
            return Unresolved(reference, UnresolvedKind.CONFIGURATION, "not an array")
        return Resolved(reference, obj, attr, Selector.QUALITY)
    if _BIT.match(prop):
        bit = int(prop)
        if bit > 31:
            return Unresolved(reference, UnresolvedKind.CONFIGURATION, "bit fields are .00 to .31")
        if attr.data_type is not MxDataType.INTEGER:
            return Unresolved(
                reference, UnresolvedKind.CONFIGURATION, "bit fields exist on integers only"
            )
        base = _indexed(reference, obj, attr, index_text, Selector.VALUE, 0)
        if isinstance(base, Unresolved):
            return base
        if base.selector is Selector.WHOLE_ARRAY:
            return Unresolved(reference, UnresolvedKind.CONFIGURATION, "bit field of a whole array")
        return Resolved(reference, obj, attr, Selector.BIT, base.index, bit)
    return Unresolved(reference, UnresolvedKind.CONFIGURATION, f"unknown property {prop!r}")


def _indexed(
    reference: str,
    obj: ObjectDef,
    attr: AttributeDef,
    index_text: str | None,
    selector: Selector,
    bit: int,
) -> Resolved | Unresolved:
    if not attr.is_array:
        if index_text is not None:
            return Unresolved(
                reference, UnresolvedKind.CONFIGURATION, f"{attr.name} is not an array"
            )
        return Resolved(reference, obj, attr, selector, 0, bit)
    if index_text is None:
        return Unresolved(
            reference, UnresolvedKind.BARE_ARRAY, f"{attr.name} is an array: use {attr.name}[]"
        )
    if index_text == "":
        return Resolved(reference, obj, attr, Selector.WHOLE_ARRAY)
    index = int(index_text)
    if index < 1:
        return Unresolved(reference, UnresolvedKind.CONFIGURATION, "array indexes start at 1")
    if index > attr.length:
        return Unresolved(
            reference, UnresolvedKind.CONFIGURATION, f"index {index} beyond length {attr.length}"
        )
    return Resolved(reference, obj, attr, Selector.ELEMENT, index)
