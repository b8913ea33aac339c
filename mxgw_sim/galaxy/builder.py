"""Building the galaxy model from schema-valid data, with the checks across objects.

Duplicate names, ``follows`` sources and cycles, array lengths, initial values that do not
fit their type and behaviours on the wrong type are found here, each located like a schema
error.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from mxgateway import MxDataType, parse_type_name
from mxgw_runner.durations import DurationError, parse_duration
from mxgw_runner.errors import Diagnostic
from mxgw_runner.yamlsource import YamlDocument, display_path
from mxgw_sim.galaxy.coerce import CoercionError, coerce, default_of
from mxgw_sim.galaxy.model import (
    DEFAULT_EPOCH,
    AttributeDef,
    Behaviour,
    Classification,
    Follows,
    Galaxy,
    GalaxySettings,
    LinkState,
    ObjectDef,
    Permission,
    Ramp,
    RandomWalk,
    SecurityConfig,
    Sine,
    Static,
    Toggle,
    User,
)
from mxgw_sim.galaxy.references import Resolved, Selector, resolve_reference

__all__ = ["GalaxyBuilder", "locate"]

_NUMERIC = frozenset({MxDataType.INTEGER, MxDataType.FLOAT, MxDataType.DOUBLE})


def locate(doc: YamlDocument, pointer: str, message: str, *, key: bool = False) -> Diagnostic:
    """A diagnostic at ``pointer`` (its key when ``key``) of ``doc``."""
    mark = doc.locate(pointer, key=key)
    return Diagnostic(
        doc.file,
        mark.line if mark else None,
        mark.column if mark else None,
        display_path(pointer),
        message,
    )


def _duration(value: Any) -> float:
    return parse_duration(value)


class _Located(Exception):
    """A problem found while building one value, with where it is."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(message)
        self.pointer = pointer
        self.message = message


def _period(value: Any, pointer: str) -> float:
    """A duration that must be longer than zero (periods, update rates)."""
    seconds = parse_duration(value)
    if seconds <= 0:
        raise _Located(pointer, f"{value!r} must be longer than 0")
    return seconds


class GalaxyBuilder:
    """Turns schema-valid data into the model, collecting cross-object problems."""

    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.problems: list[Diagnostic] = []
        self.objects: dict[str, ObjectDef] = {}
        self.pointers: dict[str, str] = {}  # object full name (lower) -> pointer
        self.follows: list[tuple[str, str, AttributeDef, Follows]] = []

    def problem(self, pointer: str, message: str, *, key: bool = False) -> None:
        self.problems.append(locate(self.doc, pointer, message, key=key))

    def build(self) -> Galaxy:
        data: dict[str, Any] = self.doc.data
        settings = self._settings(data.get("settings") or {})
        security = self._security(data.get("security") or {})
        for i, area in enumerate(data.get("areas", [])):
            self._area(area, f"/areas/{i}")
        galaxy = Galaxy(
            name=str(data.get("name", "Galaxy")),
            settings=settings,
            security=security,
            objects=dict(self.objects),
            source=self.doc.file,
        )
        self._check_follows(galaxy)
        return galaxy

    # -- settings and security

    def _settings(self, raw: dict[str, Any]) -> GalaxySettings:
        values: dict[str, Any] = {}
        for key in ("first-event-delay", "advise-delay", "update-rate", "buffered-update-interval"):
            if key in raw:
                pointer = f"/settings/{key}"
                try:
                    if key.endswith("delay"):
                        values[key.replace("-", "_")] = _duration(raw[key])
                    else:
                        values[key.replace("-", "_")] = _period(raw[key], pointer)
                except DurationError as exc:
                    self.problem(pointer, str(exc))
                except _Located as exc:
                    self.problem(exc.pointer, exc.message)
        for key in (
            "pending-completion",
            "undeployed-quality",
            "unknown-reference-quality",
            "unknown-reference-event",
            "supervisory-bypasses-security",
            "activate-sends-current",
            "operation-complete-on-suspend",
            "reuse-item-handles",
            "success-value",
            "security-refusal",
            "timestamps",
        ):
            if key in raw:
                values[key.replace("-", "_")] = raw[key]
        if "local-offset" in raw:
            text = raw["local-offset"]
            sign = -1 if text.startswith("-") else 1
            hours, minutes = int(text[1:3]), int(text[4:6])
            values["local_offset"] = sign * (hours * 3600 + minutes * 60)
        if "epoch" in raw:
            values["epoch"] = self._epoch(raw["epoch"])
        return GalaxySettings(**values)

    def _epoch(self, text: str) -> float:
        try:
            stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self.problem("/settings/epoch", f"{text!r} is not an ISO 8601 date and time")
            return DEFAULT_EPOCH
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        return stamp.timestamp()

    def _security(self, raw: dict[str, Any]) -> SecurityConfig:
        users: list[User] = []
        seen: dict[str, int] = {}
        for i, entry in enumerate(raw.get("users", [])):
            name = entry["name"]
            if name.lower() in seen:
                self.problem(
                    f"/security/users/{i}/name",
                    f"user {name!r} is already defined (users[{seen[name.lower()]}])",
                )
                continue
            seen[name.lower()] = i
            permissions = frozenset(Permission(p) for p in entry.get("permissions", []))
            users.append(User(name, entry["password"], permissions))
        return SecurityConfig(enabled=bool(raw.get("enabled", False)), users=tuple(users))

    # -- objects

    def _register(self, obj: ObjectDef, pointer: str) -> None:
        key = obj.name.lower()
        if key in self.pointers:
            first = self.doc.locate(self.pointers[key] + "/name")
            where = f" (first defined at line {first.line})" if first else ""
            self.problem(f"{pointer}/name", f"object {obj.name!r} is already defined{where}")
            return
        self.pointers[key] = pointer
        self.objects[obj.name] = obj

    def _area(self, raw: dict[str, Any], pointer: str) -> None:
        name = raw["name"]
        attributes = self._attributes(name, raw.get("attributes", []), pointer)
        self._register(
            ObjectDef(
                name=name,
                area=name,
                attributes=attributes,
                is_area=True,
                description=raw.get("description", ""),
            ),
            pointer,
        )
        for i, child in enumerate(raw.get("objects", [])):
            self._object(child, f"{pointer}/objects/{i}", area=name, container=None)

    def _object(
        self, raw: dict[str, Any], pointer: str, *, area: str, container: ObjectDef | None
    ) -> None:
        full = f"{container.name}.{raw['name']}" if container else raw["name"]
        link_raw = raw.get("link") or {}
        link = LinkState(
            connected=link_raw.get("connected", True),
            quality_on_fault=link_raw.get("quality-on-fault", 24),
        )
        obj = ObjectDef(
            name=full,
            area=area,
            container=container.name if container else None,
            on_scan=raw.get("on-scan", container.on_scan if container else True),
            deployed=raw.get("deployed", container.deployed if container else True),
            link=link,
            attributes=self._attributes(full, raw.get("attributes", []), pointer),
            description=raw.get("description", ""),
        )
        self._register(obj, pointer)
        for i, child in enumerate(raw.get("objects", [])):
            self._object(child, f"{pointer}/objects/{i}", area=area, container=obj)

    def _attributes(
        self, owner: str, raws: list[dict[str, Any]], pointer: str
    ) -> dict[str, AttributeDef]:
        out: dict[str, AttributeDef] = {}
        lowered: dict[str, int] = {}
        for i, raw in enumerate(raws):
            here = f"{pointer}/attributes/{i}"
            name = raw["name"]
            if name.lower() in lowered:
                self.problem(
                    f"{here}/name",
                    f"attribute {name!r} is already defined on {owner} "
                    f"(attributes[{lowered[name.lower()]}])",
                )
                continue
            attr = self._attribute(owner, raw, here)
            if attr is not None:
                lowered[name.lower()] = i
                out[name] = attr
        return out

    def _attribute(self, owner: str, raw: dict[str, Any], here: str) -> AttributeDef | None:
        vtype = parse_type_name(raw["type"])
        data_type, is_array = vtype.data_type, vtype.array
        ok = True
        length = int(raw.get("length", 0))
        value = raw.get("value")
        if is_array:
            if length == 0 and isinstance(value, list):
                length = len(value)
            if length == 0:
                self.problem(here, "an array attribute needs 'length' (or a list 'value')")
                ok = False
            elif isinstance(value, list) and len(value) != length:
                self.problem(
                    f"{here}/value", f"the value has {len(value)} elements but length is {length}"
                )
                ok = False
        elif "length" in raw:
            self.problem(
                f"{here}/length",
                f"'length' is only for arrays (write the type as '{raw['type']}[]')",
                key=True,
            )
            ok = False
        initial = self._initial(data_type, is_array, length, value, f"{here}/value")
        behaviour = self._behaviour(raw.get("behaviour", "static"), data_type, is_array, here)
        update_rate = None
        if "update-rate" in raw:
            try:
                update_rate = _period(raw["update-rate"], f"{here}/update-rate")
            except _Located as exc:
                self.problem(exc.pointer, exc.message)
                ok = False
        if initial is _INVALID or behaviour is None or not ok:
            return None
        attr = AttributeDef(
            name=raw["name"],
            data_type=data_type,
            is_array=is_array,
            length=length,
            value=initial,
            quality=raw.get("quality", 192),
            classification=Classification(raw.get("security", "FreeAccess")),
            writable=raw.get("writable", True),
            behaviour=behaviour,
            update_rate=update_rate,
            description=raw.get("description", ""),
        )
        if isinstance(behaviour, Follows):
            self.follows.append((owner, here, attr, behaviour))
        return attr

    def _initial(
        self, data_type: MxDataType, is_array: bool, length: int, value: Any, pointer: str
    ) -> Any:
        if value is None:
            return [default_of(data_type)] * length if is_array else default_of(data_type)
        if data_type is MxDataType.ELAPSED_TIME:
            value = _elapsed_text(value)
        try:
            return coerce(value, data_type, is_array)
        except CoercionError as exc:
            self.problem(pointer, f"invalid initial value: {exc}")
            return _INVALID

    def _behaviour(
        self, raw: Any, data_type: MxDataType, is_array: bool, here: str
    ) -> Behaviour | None:
        pointer = f"{here}/behaviour"
        if raw == "static" or (isinstance(raw, dict) and "static" in raw):
            return Static()
        assert isinstance(raw, dict)
        ((kind, body),) = raw.items()
        at = f"{pointer}/{kind}"
        if is_array:
            self.problem(at, f"{kind} needs a scalar attribute, not an array", key=True)
            return None
        try:
            if kind == "ramp":
                if not self._numeric(kind, data_type, at):
                    return None
                if body["max"] <= body["min"]:
                    self.problem(f"{at}/max", "max must be greater than min")
                    return None
                return Ramp(
                    float(body["min"]), float(body["max"]), _period(body["period"], f"{at}/period")
                )
            if kind == "sine":
                if not self._numeric(kind, data_type, at):
                    return None
                return Sine(
                    float(body["amplitude"]),
                    float(body.get("offset", 0.0)),
                    _period(body["period"], f"{at}/period"),
                )
            if kind == "random-walk":
                if not self._numeric(kind, data_type, at):
                    return None
                if body["max"] <= body["min"]:
                    self.problem(f"{at}/max", "max must be greater than min")
                    return None
                return RandomWalk(
                    int(body.get("seed", 0)),
                    float(body["step"]),
                    float(body["min"]),
                    float(body["max"]),
                )
            if kind == "toggle":
                if data_type is not MxDataType.BOOLEAN and data_type is not MxDataType.INTEGER:
                    self.problem(at, "toggle needs a boolean or integer attribute", key=True)
                    return None
                return Toggle(_period(body["period"], f"{at}/period"))
            mode = body.get("mode", "lag")
            if mode == "lag" and not self._numeric(kind, data_type, at):
                return None
            return Follows(
                source=body["source"],
                lag=_duration(body.get("lag", 0)),
                mode=mode,
                gain=float(body.get("gain", 1.0)),
                offset=float(body.get("offset", 0.0)),
            )
        except DurationError as exc:  # pragma: no cover - the schema checks the pattern
            self.problem(at, str(exc))
            return None
        except _Located as exc:
            self.problem(exc.pointer, exc.message)
            return None

    def _numeric(self, kind: str, data_type: MxDataType, at: str) -> bool:
        if data_type in _NUMERIC:
            return True
        self.problem(
            at,
            f"{kind} needs an integer, float or double attribute, not {data_type.type_name}",
            key=True,
        )
        return False

    def _check_follows(self, galaxy: Galaxy) -> None:
        sources: dict[tuple[str, str], tuple[str, str]] = {}
        for owner, here, attr, follows in self.follows:
            target = resolve_reference(galaxy, follows.source, owner)
            at = f"{here}/behaviour/follows/source"
            if not isinstance(target, Resolved) or target.selector is not Selector.VALUE:
                reason = getattr(target, "reason", "not a whole scalar attribute")
                self.problem(at, f"cannot follow {follows.source!r}: {reason}")
                continue
            if target.attribute.is_array:
                self.problem(at, f"cannot follow {follows.source!r}: it is an array")
                continue
            if follows.mode == "lag" and target.attribute.data_type not in _NUMERIC:
                self.problem(at, f"cannot follow {follows.source!r} with a lag: not a number")
                continue
            sources[(owner, attr.name)] = target.key
        for start in sources:
            seen = {start}
            node = sources.get(start)
            while node is not None:
                if node in seen:
                    owner, name = start
                    pointer = self._attr_pointer(owner, name)
                    self.problem(pointer, f"{owner}.{name} follows itself (a cycle of follows)")
                    break
                seen.add(node)
                node = sources.get(node)

    def _attr_pointer(self, owner: str, name: str) -> str:
        for o, here, attr, _ in self.follows:
            if o == owner and attr.name == name:
                return f"{here}/behaviour/follows/source"
        return ""


_INVALID = object()
_DURATION_TEXT = re.compile(r"^\s*(?:\d+(?:\.\d+)?(?:ms|s|m|h)\s*)+$")


def _elapsed_text(value: Any) -> Any:
    """Elapsed-time values may be written as durations (``90s``) in galaxy files."""
    if isinstance(value, str) and _DURATION_TEXT.match(value):
        return parse_duration(value)
    if isinstance(value, list):
        return [_elapsed_text(v) for v in value]
    return value
