"""The scenario model: plain frozen dataclasses, independent of YAML.

The loader builds these from a file; the engine only ever sees these. Step
parameters stay as loaded (variable templates such as ``${setpoint}`` unresolved)
because some variables only exist at run time (``save:``, ``for-each`` rows);
the engine resolves them with :func:`mxgw_runner.variables.resolve_step_params`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

#: Default timeouts (seconds) when a scenario does not set them.
DEFAULT_STEP_TIMEOUT = 10.0
DEFAULT_SCENARIO_TIMEOUT: float | None = None
DEFAULT_CLEANUP_TIMEOUT = 30.0

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Location:
    """A 1-based line and column in a file."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Per-step, whole-scenario and per-cleanup-entry timeouts, in seconds (None = no limit)."""

    step: float = DEFAULT_STEP_TIMEOUT
    scenario: float | None = DEFAULT_SCENARIO_TIMEOUT
    cleanup: float = DEFAULT_CLEANUP_TIMEOUT


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a scenario.

    ``kind`` is the step key (``write``, ``expect-event``, a plugin's name); ``params``
    its body as a mapping: a shorthand body such as ``advise: [a, b]`` or
    ``wait: 2s`` is stored under the step type's shorthand key
    (``{"items": [a, b]}``, ``{"for": "2s"}``), and an empty body as ``{}``.
    ``steps`` holds nested steps: the body of ``for-each`` and the loaded steps of
    ``include``. ``marks`` maps JSON pointers inside the body (``/value/approx``)
    to their location so the engine can locate run-time errors precisely. ``name``
    is kept as written (it may hold ``${row.tag}``); resolve it at run time.
    """

    kind: str
    index: int
    params: Mapping[str, Any]
    location: Location
    name: str | None = None
    timeout: float | None = None
    steps: tuple[Step, ...] = ()
    marks: Mapping[str, Location] = field(default_factory=lambda: _EMPTY)
    #: For ``include``: the included file; for ``for-each`` with ``csv:``, the CSV file
    #: (whose rows the loader has put in ``params["items"]``, in place of ``csv``).
    source: Path | None = None
    #: For ``include``: the included file's own static variables (its ``vars:``
    #: under ``--vars-file`` and ``--var``). The engine runs the nested steps with
    #: ``{**outer, **bound_vars, **resolved include vars:}``.
    bound_vars: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    @property
    def line(self) -> int:
        """Line of the step in its file."""
        return self.location.line

    @property
    def column(self) -> int:
        """Column of the step in its file."""
        return self.location.column

    @property
    def title(self) -> str:
        """``name`` if given, else a short description derived from the body."""
        rows = self.params.get("items") if self.kind in ("for-each", "check-items") else None
        if self.name and not (isinstance(rows, list) and "$" in self.name):
            return self.name
        if isinstance(rows, list):
            # counted, not listed (a CSV may hold thousands); ${row...} means nothing here
            source = f" of {self.source.name}" if self.source is not None else ""
            return f"{len(rows)} row{'s' if len(rows) != 1 else ''}{source}"
        if self.kind == "confirm" and isinstance(self.params.get("prompt"), str):
            return str(self.params["prompt"])
        for key in ("item", "items", "as", "file", "for", "client-name", "client-session-name"):
            value = self.params.get(key)
            if isinstance(value, list):
                return ", ".join(str(v) for v in value)
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                return str(value)
        return ""

    def location_of(self, pointer: str) -> Location:
        """Location of a JSON pointer inside the body, falling back to the nearest parent."""
        while True:
            loc = self.marks.get(pointer)
            if loc is not None:
                return loc
            if not pointer:
                return self.location
            pointer = pointer.rsplit("/", 1)[0]


@dataclass(frozen=True, slots=True)
class Scenario:
    """A loaded, schema-valid scenario whose static variables are all known."""

    path: Path
    name: str
    steps: tuple[Step, ...]
    description: str = ""
    version: int = 1
    tags: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    #: Static variables in force (``vars:`` < ``--vars-file`` < ``--var``), resolved.
    vars: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    #: Names of variables whose values are secret (masked in reports).
    secret_vars: frozenset[str] = frozenset()
    #: Secret texts known at load time (``secret-env`` values, ``password-env``
    #: passwords, secret variables, included files' too), for the report redactor.
    secret_values: frozenset[str] = frozenset()
    timeouts: Timeouts = field(default_factory=Timeouts)

    def walk(self) -> list[Step]:
        """All steps, depth first, nested ``for-each``/``include`` steps included."""
        out: list[Step] = []

        def visit(steps: tuple[Step, ...]) -> None:
            for s in steps:
                out.append(s)
                visit(s.steps)

        visit(self.steps)
        return out
