"""Step types, the registry that holds them, and what a step receives when it runs.

A :class:`StepType` pairs a step name with the JSON schema fragment of its body
and the async callable that runs it. Built-in steps and plugin steps are
registered the same way (the ``mxgw_register_steps`` hook); the published
scenario schema and the loader's validation are both built from the registry.
"""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from mxgw_runner.errors import PluginError

if TYPE_CHECKING:
    from mxgw_runner.matching import ObservedEvent
    from mxgw_runner.model import Scenario, Step

#: Keys every step may carry beside its step key.
COMMON_STEP_KEYS: tuple[str, ...] = ("name", "timeout")

#: Owner names that mean "the runner itself" in registry messages.
_BUILTIN_OWNERS = frozenset({"<builtin>", "mxgw_runner.steps"})


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """What a step observed, for the report; a step that checks nothing may return None."""

    observed_value: Any = None
    observed_quality: int | None = None
    observed_timestamp: datetime | None = None
    expected: str | None = None
    message: str | None = None


class EventRecorder(Protocol):
    """The engine's per-session event log as steps see it (arrival order)."""

    @property
    def events(self) -> Sequence[ObservedEvent]:
        """Every recorded event of the session so far, in arrival order."""
        ...

    def cursor(self, item: str) -> int:
        """Index in :attr:`events` where the next ``expect-event`` of ``item`` starts reading."""
        ...

    def set_cursor(self, item: str, index: int) -> None:
        """Move ``item``'s cursor past what an expectation consumed."""
        ...

    def last_write_index(self, item: str) -> int | None:
        """Index of the first event recorded after the last write to ``item`` (None: no write)."""
        ...

    async def wait_for_events(self, count: int, timeout: float) -> bool:  # noqa: ASYNC109
        """Wait until more than ``count`` events are recorded, or ``timeout`` seconds pass.

        Returns True if new events arrived; False at the timeout, and early when the event
        stream is lost or a replay gap is recorded (so a step can report that instead of
        waiting out its time).
        """
        ...


class StepContext(Protocol):
    """What the engine hands to a step's ``run`` callable.

    Steps never print and never touch reports: they act through this object,
    return a :class:`StepOutcome` (or None), raise
    :class:`~mxgw_runner.errors.StepFailed` when a check fails, and let any other
    exception mean an infrastructure error.
    """

    @property
    def scenario(self) -> Scenario:
        """The scenario being run."""
        ...

    @property
    def step(self) -> Step:
        """The step being run (its raw params, location and nested steps)."""
        ...

    @property
    def params(self) -> Mapping[str, Any]:
        """The step's params with every variable resolved and re-validated against its schema."""
        ...

    @property
    def timeout(self) -> float:
        """Seconds this step may take (its ``timeout:`` or the scenario's step timeout)."""
        ...

    @property
    def step_start(self) -> datetime:
        """Wall-clock UTC time the step started (for ``timestamp: {after: step-start}``)."""
        ...

    @property
    def session(self) -> Any:
        """The open ``mxgateway`` session, or None before ``open-session``."""
        ...

    @property
    def recorder(self) -> EventRecorder:
        """The session's event log and per-item cursors."""
        ...

    def item_handle(self, alias: str) -> int:
        """The item handle ``add-item`` obtained for an alias (or item reference)."""
        ...

    async def client(self) -> Any:
        """The run's ``mxgateway.GatewayClient``, connected on first use.

        Its ``options`` carry the endpoint, transport and API key of the run (with
        ``--simulate``, the embedded simulator's): what a plugin needs to reach a service
        served next to the gateway.
        """
        ...

    def get_var(self, name: str) -> Any:
        """A variable's current value (raises KeyError if unknown)."""
        ...

    def set_var(self, name: str, value: Any, *, secret: bool = False) -> None:
        """Bind a variable for later steps (``save:``); secret values are masked in reports."""
        ...

    def push_cleanup(self, action: str, target: str, undo: Callable[[], Awaitable[None]]) -> None:
        """Register an undo run in reverse order when the scenario ends, whatever happens."""
        ...

    def drop_cleanup(self, action: str, target: str) -> bool:
        """Remove a pending undo (after an explicit ``unadvise`` etc.); True if one was found."""
        ...

    async def run_steps(
        self, steps: Sequence[Step], variables: Mapping[str, Any], *, label: str
    ) -> bool:
        """Run nested steps (a ``for-each`` pass, an ``include``) with extra variables.

        Returns True if all of them passed.
        """
        ...

    async def confirm(self, prompt: str) -> bool:
        """Ask the operator a yes/no question on the terminal (honours ``--assume-yes``)."""
        ...


#: The callable that runs a step.
StepRun = Callable[[StepContext], Awaitable[StepOutcome | None]]


@dataclass(frozen=True, slots=True)
class StepType:
    """A step a scenario may use.

    ``schema`` is the JSON schema of the step's body (the value under the step
    key); it may refer to the shared definitions with ``{"$ref": "#/$defs/<name>"}``
    (see :data:`mxgw_runner.schema.SHARED_DEFS`). A body that is not a mapping
    (``advise: [a, b]``, ``wait: 2s``) is stored in the model under ``shorthand``.
    ``nested`` names a body key holding nested steps (``for-each``'s ``steps``).
    ``run`` may be None while a step is declared but not yet implemented.
    """

    name: str
    schema: Mapping[str, Any]
    run: StepRun | None = None
    description: str = ""
    shorthand: str | None = None
    nested: str | None = None


@dataclass(slots=True, eq=False)
class StepRegistry:
    """Step name → :class:`StepType`, remembering which plugin registered each."""

    _types: dict[str, StepType] = field(default_factory=dict)
    _owners: dict[str, str] = field(default_factory=dict)

    def add(self, step_type: StepType, plugin: str = "<builtin>") -> None:
        """Register a step type; a name already taken raises :class:`PluginError` naming both."""
        name = step_type.name
        if name in COMMON_STEP_KEYS:
            raise PluginError(f"plugin {plugin!r}: step name {name!r} is reserved")
        if name in self._types:
            owner = self._owners[name]
            taken_by = f"built-in {owner!r}" if owner in _BUILTIN_OWNERS else f"plugin {owner!r}"
            raise PluginError(
                f"plugin {plugin!r} registers step {name!r}, already registered by {taken_by}"
            )
        self._types[name] = step_type
        self._owners[name] = plugin

    def get(self, name: str) -> StepType | None:
        """The step type called ``name``, or None."""
        return self._types.get(name)

    def owner(self, name: str) -> str:
        """The plugin that registered ``name``."""
        return self._owners[name]

    def names(self) -> list[str]:
        """Registered step names, in registration order."""
        return list(self._types)

    def suggest(self, name: str) -> str | None:
        """The closest registered name to a misspelt one, if any is close enough."""
        matches = difflib.get_close_matches(name, self._types, n=1, cutoff=0.6)
        return matches[0] if matches else None

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[StepType]:
        return iter(self._types.values())

    def __len__(self) -> int:
        return len(self._types)
