"""What a scenario holds on the gateway while it runs: session, handles, items and users.

Steps read and change this through :class:`~mxgw_runner.engine.context.RunContext`;
the recorder resolves event handles to item aliases through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mxgw_runner.engine.recorder import Recorder


class StepUsageError(Exception):
    """A step cannot run as written (unknown item alias, no session open, unknown user).

    Like a schema error, this is the scenario's mistake, reported with the
    step's location and exit code 2, not as a gateway failure.
    """


@dataclass(slots=True)
class ItemState:
    """An item added by ``add-item``: its alias, reference and handle, and whether advised."""

    alias: str
    reference: str
    handle: int
    advised: bool = False
    supervisory: bool = False
    #: Index in the recorder's log where the current advise started.
    advised_at: int = 0


@dataclass(slots=True)
class SessionState:
    """One open gateway session of the scenario and everything acquired in it."""

    session: Any
    #: Set right after construction (the recorder needs :meth:`alias_of`).
    recorder: Recorder = field(init=False)
    server_handle: int | None = None
    items: dict[str, ItemState] = field(default_factory=dict)
    #: (server handle, item handle) → alias, for the recorder.
    by_handle: dict[tuple[int, int], str] = field(default_factory=dict)
    #: Authenticated users: the name written in ``authenticate`` (and its ``as:``) → user id.
    users: dict[str, int] = field(default_factory=dict)
    closed: bool = False

    def alias_of(self, server_handle: int, item_handle: int) -> str:
        """The alias of an event's item; ``#<handle>`` when no added item has that handle."""
        alias = self.by_handle.get((server_handle, item_handle))
        return alias if alias is not None else f"#{server_handle}.{item_handle}"

    def require_server(self) -> int:
        """The server handle from ``register``; a usage error before it."""
        if self.server_handle is None:
            raise StepUsageError("no MXAccess connection: add a register step before this one")
        return self.server_handle

    def item(self, name: str) -> ItemState:
        """The item called ``name`` (its ``as:`` alias or its reference)."""
        state = self.items.get(name)
        if state is not None:
            return state
        for candidate in self.items.values():
            if candidate.reference == name:
                return candidate
        known = ", ".join(sorted(self.items)) or "none yet"
        raise StepUsageError(f"unknown item {name!r}: add it with add-item first (known: {known})")

    def add(self, state: ItemState) -> None:
        """Remember an added item."""
        assert self.server_handle is not None
        self.items[state.alias] = state
        self.by_handle[(self.server_handle, state.handle)] = state.alias

    def remove(self, state: ItemState) -> None:
        """Forget a removed item (its handle may be reused)."""
        self.items.pop(state.alias, None)
        if self.server_handle is not None:
            self.by_handle.pop((self.server_handle, state.handle), None)

    def user_id(self, name: str) -> int:
        """The id of an authenticated user; a usage error if ``authenticate`` did not run."""
        if name in self.users:
            return self.users[name]
        known = ", ".join(sorted(self.users)) or "none yet"
        raise StepUsageError(
            f"user {name!r} is not authenticated: add an authenticate step first (known: {known})"
        )
