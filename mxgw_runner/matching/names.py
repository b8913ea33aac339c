"""How MXAccess names and codes read: status categories and sources, quality bytes.

Scenarios may spell a status name in MXAccess or enum style and a quality by
class, name or number; these tables give one canonical spelling for comparing
and one readable spelling for explanations.
"""

from __future__ import annotations

CATEGORY_NAMES = {
    -1: "Unknown",
    0: "Ok",
    1: "Pending",
    2: "Warning",
    3: "CommunicationError",
    4: "ConfigurationError",
    5: "OperationalError",
    6: "SecurityError",
    7: "SoftwareError",
    8: "OtherError",
}
SOURCE_NAMES = {
    -1: "Unknown",
    0: "RequestingLmx",
    1: "RespondingLmx",
    2: "RequestingNmx",
    3: "RespondingNmx",
    4: "RequestingAutomationObject",
    5: "RespondingAutomationObject",
}
_PREFIXES = ("mxstatuscategory", "mxstatussource")


def normalize_name(name: str | int) -> str:
    """Canonical form for comparing status names: ``OPERATIONAL_ERROR`` → ``operationalerror``."""
    text = "".join(ch for ch in str(name).lower() if ch.isalnum())
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


QUALITY_CLASSES: dict[str, int] = {"bad": 0x00, "uncertain": 0x40, "good": 0xC0}
#: Named qualities (low byte without the limit bits), from the OPC DA layout.
NAMED_QUALITIES: dict[str, int] = {
    "local-override": 216,
    "last-usable-value": 68,
    "sensor-not-accurate": 80,
    "engineering-units-exceeded": 84,
    "sub-normal": 88,
    "configuration-error": 4,
    "not-connected": 8,
    "device-failure": 12,
    "sensor-failure": 16,
    "last-known-value": 20,
    "communication-failure": 24,
    "out-of-service": 28,
    "waiting-for-initial-data": 32,
}
_CODE_NAMES = {code: name for name, code in NAMED_QUALITIES.items()}
LIMITS = {"none": 0, "low": 1, "high": 2, "constant": 3}
LIMIT_NAMES = {v: k for k, v in LIMITS.items()}


def quality_class(quality: int) -> str:
    """``good``, ``uncertain``, ``bad`` or ``invalid`` (class bits 10) of a quality."""
    bits = quality & 0xC0
    for name, value in QUALITY_CLASSES.items():
        if bits == value:
            return name
    return "invalid"


def quality_name(quality: int) -> str:
    """Readable quality: ``good (192)``, ``bad: out-of-service (28)``, ``uncertain, limit low``."""
    low = quality & 0xFF
    cls = quality_class(low)
    text = cls
    named = _CODE_NAMES.get(low & 0xFC)
    if named:
        text += f": {named}"
    limit = low & 0x03
    if limit:
        text += f", limit {LIMIT_NAMES[limit]}"
    return f"{text} ({quality})"
