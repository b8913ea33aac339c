"""Fixtures of the end-to-end tests: live runs that are always stopped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .support import LiveRun


@pytest.fixture
def live_run() -> Iterator[Callable[..., LiveRun]]:
    """Start ``mxgw-run`` processes; any still running after the test is killed."""
    started: list[LiveRun] = []

    def start(*args: str | Path, **kwargs: object) -> LiveRun:
        run = LiveRun(*args, **kwargs)  # type: ignore[arg-type]
        started.append(run)
        return run

    try:
        yield start
    finally:
        for run in started:
            run.kill()
