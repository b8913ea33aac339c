"""Async iterators over server-streaming calls that always cancel their call.

Leaving an ``async for`` early, cancelling the task, ``aclose()``, leaving an ``async with``
or dropping the iterator all cancel the gRPC call, so the server sees the stream end at once.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any, Generic, TypeVar

import grpc

from mxgateway._errors import ClientClosedError, raise_rpc_error

__all__ = ["CallStream"]

T = TypeVar("T")

_EOF: Any = grpc.aio.EOF  # type: ignore[attr-defined]

Opener = Callable[[], Any]
"""Starts the call: returns a ``grpc.aio.UnaryStreamCall``."""
Unpack = Callable[[Any], Iterable[T]]
"""Turns one message of the call into the items the iterator yields."""


class CallStream(Generic[T]):
    """An async iterator (and async context manager) over one streaming call, which starts
    when the iterator is made.

    ``fallback`` (an opener and unpacker) is tried once when the first read answers
    UNIMPLEMENTED: that is how an extension RPC falls back to the standard one.
    ``busy_retry`` is how long (seconds) an ALREADY_EXISTS answer before the first message
    is retried: a session's own previous stream may still be closing on the server, since a
    cancellation reaches it a moment after the client lets go.
    """

    def __init__(
        self,
        opener: Opener,
        unpack: Unpack[T],
        *,
        method: str,
        secrets: Sequence[str | None] = (),
        fallback: tuple[Opener, Unpack[T], str] | None = None,
        on_fallback: Callable[[], None] | None = None,
        is_closed: Callable[[], bool] | None = None,
        busy_retry: float = 0.0,
        on_cancel: Callable[[], None] | None = None,
    ) -> None:
        self._opener = opener
        self._unpack = unpack
        self._method = method
        self._secrets = secrets
        self._fallback = fallback
        self._on_fallback = on_fallback
        self._is_closed = is_closed
        self._call: Any = opener()
        self._buffer: deque[T] = deque()
        self._received = False
        self._done = False
        self._busy_until = time.monotonic() + busy_retry if busy_retry > 0 else 0.0
        self._busy_delay = 0.01
        self._on_cancel = on_cancel

    @property
    def method(self) -> str:
        """The RPC in use (after a fallback, the standard one)."""
        return self._method

    def __aiter__(self) -> CallStream[T]:
        return self

    async def __anext__(self) -> T:
        buffer = self._buffer
        while not buffer:
            buffer.extend(await self.next_message())
        return buffer.popleft()

    async def next_message(self) -> Iterable[T]:
        """The items of the next message, unbuffered (possibly none); items already buffered
        by ``__anext__`` come first. Ends with ``StopAsyncIteration`` like ``__anext__``.

        A consumer that handles a message's items in one loop reads with this instead of
        taking them one ``__anext__`` at a time.
        """
        if self._buffer:
            items = list(self._buffer)
            self._buffer.clear()
            return items
        while True:
            if self._done:
                raise StopAsyncIteration
            if self._call is None:
                self._call = self._opener()
            try:
                message = await self._call.read()
            except grpc.aio.AioRpcError as exc:
                if self._try_fallback(exc):
                    continue
                if self._busy_retry_due(exc):
                    await asyncio.sleep(self._busy_delay)
                    self._busy_delay = min(self._busy_delay * 2, 0.2)
                    continue
                self._done = True
                if self._is_closed is not None and self._is_closed():
                    raise ClientClosedError("the client was closed during the stream") from None
                raise_rpc_error(exc, method=self._method, secrets=self._secrets)
                raise  # unreachable: raise_rpc_error always raises
            except asyncio.CancelledError:
                self.cancel()
                task = asyncio.current_task()
                task_cancelled = task is not None and task.cancelling() > 0
                if not task_cancelled and self._is_closed is not None and self._is_closed():
                    raise ClientClosedError("the client was closed during the stream") from None
                raise
            except BaseException:
                self.cancel()
                raise
            if message is _EOF:
                self._done = True
                raise StopAsyncIteration
            self._received = True
            return self._unpack(message)

    def _try_fallback(self, exc: grpc.aio.AioRpcError) -> bool:
        if (
            self._fallback is None
            or self._received
            or exc.code() is not grpc.StatusCode.UNIMPLEMENTED
        ):
            return False
        self._opener, self._unpack, self._method = self._fallback
        self._fallback = None
        self._call = None
        if self._on_fallback is not None:
            self._on_fallback()
        return True

    def _busy_retry_due(self, exc: grpc.aio.AioRpcError) -> bool:
        if (
            self._received
            or exc.code() is not grpc.StatusCode.ALREADY_EXISTS
            or time.monotonic() >= self._busy_until
        ):
            return False
        self._call = None
        return True

    def cancel(self) -> None:
        """Cancel the call now (synchronous; safe to call more than once)."""
        self._done = True
        call, self._call = self._call, None
        if call is not None and not call.done():
            call.cancel()
            if self._on_cancel is not None:
                self._on_cancel()

    async def aclose(self) -> None:
        """Cancel the call; the iterator then ends."""
        self.cancel()

    async def __aenter__(self) -> CallStream[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cancel()

    def __del__(self) -> None:
        call = getattr(self, "_call", None)
        if call is not None:
            try:
                if not call.done():
                    call.cancel()
            except Exception:
                pass
