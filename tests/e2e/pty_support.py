"""Driving the real ``mxgw-run`` on a pseudo-terminal, as an operator at a console would.

Shared by the tests of ``confirm`` questions and of the live progress line, which both need
a terminal on the other side of the run's stdin and stdout.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .support import MXGW_RUN, ROOT, env_with


def read_chunk(fd: int) -> bytes:
    """One read of a terminal's master side; ``b""`` once the run closed its side (EIO)."""
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the process closed the terminal
        return b""


def read_until(fd: int, needle: bytes, deadline: float) -> bytes:
    """Read the terminal until ``needle`` shows (or the other side closes)."""
    out = b""
    while needle not in out:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {needle!r} in {out!r}"
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = read_chunk(fd)
        if not chunk:
            break
        out += chunk
    return out


@contextmanager
def at_terminal(*args: str | Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """Start ``mxgw-run`` with a pseudo-terminal as stdin and stdout (stderr a pipe); yields
    the process and the terminal's master side, and kills and closes everything after."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [MXGW_RUN, *map(str, args)],
        stdin=slave,
        stdout=slave,
        stderr=subprocess.PIPE,
        env=env_with(),
        cwd=ROOT,
    )
    os.close(slave)
    try:
        yield process, master
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()
        os.close(master)
