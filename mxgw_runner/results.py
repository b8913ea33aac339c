"""Results of a run: plain data the engine fills in and report writers read.

Writers never reach back into the engine; everything a report shows is here.
Times are UTC datetimes; durations are seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from mxgw_runner.matching import ObservedEvent, json_value, quality_name


class Outcome(StrEnum):
    """Status of a step, a cleanup action or a scenario."""

    PASSED = "passed"
    FAILED = "failed"  # a check did not hold
    ERROR = "error"  # the check could not be made (gateway, session, plugin, bad value)
    SKIPPED = "skipped"  # not run (an earlier step failed, --fail-fast, filtered out)
    INTERRUPTED = "interrupted"  # Ctrl-C or SIGTERM while running


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(slots=True)
class CleanupResult:
    """One undo action run when the scenario ended (restore, unadvise, close session...)."""

    action: str
    target: str
    status: Outcome = Outcome.PASSED
    message: str | None = None
    duration: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON form (see ``report.schema.json``)."""
        return {
            "action": self.action,
            "target": self.target,
            "status": str(self.status),
            "message": self.message,
            "duration": round(self.duration, 6),
        }


@dataclass(slots=True)
class StepResult:
    """Outcome of one step, nested ``for-each``/``include`` steps included.

    ``number`` is the label shown to users: ``03`` for a top-level step,
    ``05.2.01`` for the first nested step of the second pass of step 5.
    """

    index: int
    kind: str
    name: str = ""
    line: int | None = None
    file: str | None = None
    status: Outcome = Outcome.PASSED
    start: datetime | None = None
    duration: float = 0.0
    number: str = ""
    observed_value: Any = None
    observed_quality: int | None = None
    observed_timestamp: datetime | None = None
    expected: str | None = None
    message: str | None = None
    timeline: list[ObservedEvent] = field(default_factory=list)
    closest: ObservedEvent | None = None
    closest_explanation: str | None = None
    #: Nested results: a ``for-each``'s passes (each holding its own nested steps), an
    #: ``include``'s steps, a ``check-items``'s items.
    children: list[StepResult] = field(default_factory=list)
    #: True when the children are the checks (``for-each`` passes, checked items) rather
    #: than details of this one check (an ``include``'s steps).
    group: bool = False

    @property
    def label(self) -> str:
        """``03`` (or the nested ``number``)."""
        return self.number or f"{self.index:02d}"

    def checks(self) -> list[StepResult]:
        """The checks this result stands for: its children if it is a group, else itself."""
        return list(self.children) if self.group else [self]

    def to_dict(self) -> dict[str, Any]:
        """JSON form (see ``report.schema.json``)."""
        return {
            "index": self.index,
            "number": self.label,
            "kind": self.kind,
            "name": self.name,
            "file": self.file,
            "line": self.line,
            "status": str(self.status),
            "start": _iso(self.start),
            "duration": round(self.duration, 6),
            "observed": {
                "value": json_value(self.observed_value),
                "quality": self.observed_quality,
                "quality-text": (
                    quality_name(self.observed_quality)
                    if self.observed_quality is not None
                    else None
                ),
                "timestamp": _iso(self.observed_timestamp),
            },
            "expected": self.expected,
            "message": self.message,
            "timeline": [e.to_dict() for e in self.timeline],
            "closest": (
                None
                if self.closest is None
                else {"event": self.closest.to_dict(), "explanation": self.closest_explanation}
            ),
            "group": self.group,
            "steps": [c.to_dict() for c in self.children],
        }


@dataclass(slots=True)
class ScenarioResult:
    """Outcome of one scenario file: its steps, its cleanup and overall status."""

    file: str
    name: str
    status: Outcome = Outcome.PASSED
    tags: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    steps: list[StepResult] = field(default_factory=list)
    cleanup: list[CleanupResult] = field(default_factory=list)
    start: datetime | None = None
    duration: float = 0.0
    message: str | None = None

    @property
    def cleanup_failed(self) -> bool:
        """True if any cleanup action did not pass."""
        return any(c.status in (Outcome.FAILED, Outcome.ERROR) for c in self.cleanup)

    def checks(self) -> list[StepResult]:
        """Every check of the scenario: a step, or each pass/item of a group step."""
        return [check for step in self.steps for check in step.checks()]

    def check_counts(self) -> dict[str, int]:
        """Number of checks per status (every status present, zero or not)."""
        return _count(self.checks())

    def to_dict(self) -> dict[str, Any]:
        """JSON form (see ``report.schema.json``)."""
        return {
            "file": self.file,
            "name": self.name,
            "status": str(self.status),
            "tags": list(self.tags),
            "metadata": json_value_deep(self.metadata),
            "start": _iso(self.start),
            "duration": round(self.duration, 6),
            "message": self.message,
            "checks": self.check_counts(),
            "steps": [s.to_dict() for s in self.steps],
            "cleanup": [c.to_dict() for c in self.cleanup],
        }


@dataclass(slots=True)
class RunResult:
    """A whole ``mxgw-run`` invocation.

    ``endpoint`` must not carry credentials (the CLI strips user info and keys).
    ``interrupted_by`` is ``SIGINT`` or ``SIGTERM`` when the run was cut short.
    """

    tool_version: str
    start: datetime
    end: datetime | None = None
    endpoint: str | None = None
    gateway_version: str | None = None
    protocol_version: int | None = None
    scenarios: list[ScenarioResult] = field(default_factory=list)
    interrupted_by: str | None = None

    def counts(self) -> dict[str, int]:
        """Number of scenarios per status (every status present, zero or not)."""
        out = {str(o): 0 for o in Outcome}
        for s in self.scenarios:
            out[str(s.status)] += 1
        return out

    def check_counts(self) -> dict[str, int]:
        """Number of checks (steps, passes, checked items) per status over every scenario."""
        return _count([c for s in self.scenarios for c in s.checks()])

    def to_dict(self) -> dict[str, Any]:
        """JSON form (see ``report.schema.json``)."""
        duration = (self.end - self.start).total_seconds() if self.end else None
        return {
            "format": "mxgw-run-report",
            "format-version": 1,
            "tool": {"name": "mxgw-run", "version": self.tool_version},
            "start": _iso(self.start),
            "end": _iso(self.end),
            "duration": round(duration, 6) if duration is not None else None,
            "endpoint": self.endpoint,
            "gateway": {"version": self.gateway_version, "protocol-version": self.protocol_version},
            "interrupted-by": self.interrupted_by,
            "summary": self.counts(),
            "checks": self.check_counts(),
            "scenarios": [s.to_dict() for s in self.scenarios],
        }


def _count(results: list[StepResult]) -> dict[str, int]:
    out = {str(o): 0 for o in Outcome}
    for r in results:
        out[str(r.status)] += 1
    return out


def safe_endpoint(endpoint: str | None) -> str | None:
    """An endpoint fit for reports: no user info, no query string (where keys hide)."""
    if not endpoint:
        return endpoint
    parts = urlsplit(endpoint if "//" in endpoint else f"//{endpoint}")
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port is not None else host
    scheme = f"{parts.scheme}://" if parts.scheme else ""
    return f"{scheme}{netloc}{parts.path}"


def json_value_deep(value: Any) -> Any:
    """Nested metadata made JSON-safe (mappings, lists, scalars, datetimes)."""
    if isinstance(value, Mapping):
        return {str(k): json_value_deep(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value_deep(v) for v in value]
    return json_value(value)
