"""The operator's terminal for ``confirm``: is there one, and a yes/no answer read from it.

The answer is read without blocking the event loop (the session's events keep
being recorded while the operator thinks): on POSIX the loop watches standard
input, elsewhere a daemon thread reads the line. Ctrl-C while waiting cancels the
question like any other step.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading

YES = frozenset({"y", "yes"})


def have_terminal() -> bool:
    """True when standard input and output are both terminals (someone can answer)."""
    try:
        return bool(sys.stdin and sys.stdin.isatty() and sys.stdout and sys.stdout.isatty())
    except (ValueError, OSError):  # closed streams
        return False


def _read_line_in_thread(loop: asyncio.AbstractEventLoop, future: asyncio.Future[str]) -> None:
    def read() -> None:
        try:
            line = sys.stdin.readline()
        except (OSError, ValueError) as exc:
            loop.call_soon_threadsafe(_settle_error, future, exc)
            return
        loop.call_soon_threadsafe(_settle, future, line)

    threading.Thread(target=read, name="mxgw-run-confirm", daemon=True).start()


def _settle(future: asyncio.Future[str], line: str) -> None:
    if not future.done():
        future.set_result(line)


def _settle_error(future: asyncio.Future[str], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


async def read_line() -> str:
    """One line from standard input ('' at end of input), without blocking the loop."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()
    try:
        fd = sys.stdin.fileno()
    except (OSError, ValueError):
        return ""
    buffer = bytearray()

    def readable() -> None:
        try:
            chunk = os.read(fd, 1024)
        except BlockingIOError:
            return
        except OSError as exc:
            _settle_error(future, exc)
            return
        if not chunk:
            _settle(future, buffer.decode(errors="replace"))
            return
        buffer.extend(chunk)
        if b"\n" in chunk:
            _settle(future, buffer.decode(errors="replace"))

    try:
        loop.add_reader(fd, readable)
    except (NotImplementedError, ValueError, OSError):
        _read_line_in_thread(loop, future)
        return await future
    try:
        return await future
    finally:
        loop.remove_reader(fd)


#: One question at a time (scenarios run in parallel with --jobs share the terminal).
_ONE_QUESTION = asyncio.Lock()


async def ask_yes_no(prompt: str) -> bool:
    """Ask ``prompt [y/N]`` on the terminal; True only for y or yes."""
    async with _ONE_QUESTION:
        sys.stdout.write(f"{prompt} [y/N] ")
        sys.stdout.flush()
        line = await read_line()
        if not line.endswith("\n"):
            sys.stdout.write("\n")
            sys.stdout.flush()
        return line.strip().lower() in YES
