"""Fixtures of the ``mxgw-py`` tests: the shared ``mxgw-sim`` process with a leak check, and
a session per test that is closed afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cli_helpers import Gateway

from mxgw_sim.testing import SimProcess


@pytest.fixture
def gateway(sim: SimProcess) -> Iterator[Gateway]:
    """The shared simulator (tests/conftest.py); fails the test when the test left sessions
    open on it."""
    gw = Gateway(sim)
    before = gw.session_ids()
    yield gw
    leaked = gw.session_ids() - before
    assert not leaked, f"sessions left open: {leaked}"


@pytest.fixture
def session(gateway: Gateway) -> Iterator[str]:
    """A session opened with ``mxgw-py open-session`` and closed after the test."""
    sid = gateway.open_session()
    yield sid
    gateway.run("close-session", "--session-id", sid).expect(0)
