"""API keys, scopes and the server interceptor that enforces them on every call.

Keys travel as ``authorization: Bearer <key>`` metadata. Each configured key carries a set of
scopes; ``admin`` implies every scope. With no keys configured authentication is off. Keys
are compared in constant time and never appear in logs, errors or reprs: they are shown as
``Bearer <redacted>``.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from mxgateway.generated import mxaccess_gateway_pb2 as pb

SCOPES: tuple[str, ...] = (
    "session:open",
    "session:close",
    "invoke:read",
    "invoke:write",
    "invoke:secure",
    "events:read",
    "metadata:read",
    "admin",
)
REDACTED = "Bearer <redacted>"
log = logging.getLogger("mxgw_sim.auth")
MISSING_TOKEN = "authentication failed: missing bearer token"
BAD_TOKEN = "authentication failed: invalid api key"

_K = pb.MxCommandKind
_WRITE_KINDS = frozenset(
    {
        _K.MX_COMMAND_KIND_WRITE,
        _K.MX_COMMAND_KIND_WRITE2,
        _K.MX_COMMAND_KIND_WRITE_BULK,
        _K.MX_COMMAND_KIND_WRITE2_BULK,
    }
)
_SECURE_KINDS = frozenset(
    {
        _K.MX_COMMAND_KIND_WRITE_SECURED,
        _K.MX_COMMAND_KIND_WRITE_SECURED2,
        _K.MX_COMMAND_KIND_WRITE_SECURED_BULK,
        _K.MX_COMMAND_KIND_WRITE_SECURED2_BULK,
        _K.MX_COMMAND_KIND_AUTHENTICATE_USER,
    }
)

# Methods every caller may use without a key: health checks and reflection.
_OPEN_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.")
_FIXED_SCOPES: dict[str, str] = {
    "/mxaccess_gateway.v1.MxAccessGateway/OpenSession": "session:open",
    "/mxaccess_gateway.v1.MxAccessGateway/CloseSession": "session:close",
    "/mxaccess_gateway.v1.MxAccessGateway/StreamEvents": "events:read",
    "/mxaccess_gateway.v1.MxAccessGateway/AcknowledgeAlarm": "invoke:write",
    "/mxaccess_gateway.v1.MxAccessGateway/StreamAlarms": "events:read",
    "/mxaccess_gateway.v1.MxAccessGateway/QueryActiveAlarms": "events:read",
    "/mxgw.ext.v1.MxGatewayExtensions/StreamEventBatches": "events:read",
}
_INVOKE = "/mxaccess_gateway.v1.MxAccessGateway/Invoke"
_CONTROL_PREFIX = "/mxgw_sim.control.v1."


class KeyFileError(ValueError):
    """The API keys file cannot be read or has a bad entry (the message names the file)."""


@dataclass(frozen=True)
class ApiKey:
    """One accepted key with its scopes; ``repr`` never shows the secret."""

    secret: str = field(repr=False)
    scopes: frozenset[str]
    name: str = ""

    def allows(self, scope: str) -> bool:
        """Whether this key grants ``scope`` (``admin`` grants everything)."""
        return scope in self.scopes or "admin" in self.scopes


class KeyStore:
    """The configured keys. Empty means authentication is off."""

    def __init__(self, keys: Iterable[ApiKey] = ()) -> None:
        self._keys = list(keys)

    def __repr__(self) -> str:
        return f"KeyStore(<{len(self._keys)} keys>)"

    @property
    def enabled(self) -> bool:
        """Whether any key is configured."""
        return bool(self._keys)

    def secrets(self) -> list[str]:
        """The raw keys, for scrubbing text; never log the result."""
        return [k.secret for k in self._keys]

    def lookup(self, presented: str) -> ApiKey | None:
        """The key matching ``presented`` (compared in constant time against every key)."""
        found: ApiKey | None = None
        given = presented.encode()
        for key in self._keys:
            if hmac.compare_digest(given, key.secret.encode()):
                found = key
        return found


def load_keys(cli_keys: Sequence[str], key_files: Sequence[str]) -> KeyStore:
    """Build the key store from ``--api-key`` values (all scopes) and ``--api-key-file`` files."""
    keys = [ApiKey(k, frozenset(SCOPES), "cli") for k in cli_keys if k]
    for path in key_files:
        keys.extend(_read_key_file(Path(path)))
    return KeyStore(keys)


#: Largest API keys file read (a keys file is a few lines; this bounds a mistaken path).
MAX_KEY_FILE_BYTES = 1024 * 1024


def _parse_key_file(path: Path, text: str) -> Any:
    """The keys file's data: JSON, or YAML through the bounded loader (depth, aliases and
    nodes bounded, so a hostile file is an error, not a hang or a RecursionError).
    Errors name the place only: the file holds secrets, so none of its text is shown."""
    from mxgw_runner.errors import ScenarioError
    from mxgw_runner.yamlsource import parse_yaml

    if path.suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise KeyFileError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON") from None
        except RecursionError:
            raise KeyFileError(f"{path}: not valid JSON (nested too deeply)") from None
    try:
        return parse_yaml(text, str(path)).data
    except ScenarioError as exc:
        first = exc.diagnostics[0] if exc.diagnostics else None
        where = f":{first.line}:{first.column}" if first and first.line else ""
        raise KeyFileError(f"{path}{where}: not valid YAML/JSON") from None


def _read_key_file(path: Path) -> list[ApiKey]:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read API keys file: {exc.strerror}") from None
    if len(raw) > MAX_KEY_FILE_BYTES:
        raise KeyFileError(f"{path}: API keys file larger than {MAX_KEY_FILE_BYTES} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise KeyFileError(f"{path}: API keys file is not UTF-8 text") from None
    data = _parse_key_file(path, text)
    entries = data.get("keys") if isinstance(data, Mapping) else data
    if not isinstance(entries, list):
        raise KeyFileError(f"{path}: expected a list of keys (or a mapping with 'keys')")
    keys: list[ApiKey] = []
    for index, entry in enumerate(entries):
        where = f"{path}: keys[{index}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("key"), str):
            raise KeyFileError(f"{where}: each entry needs a string 'key'")
        scopes = entry.get("scopes", list(SCOPES))
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise KeyFileError(f"{where}.scopes: expected a list of scope names")
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown:
            raise KeyFileError(
                f"{where}.scopes: unknown scope {unknown[0]!r} (known: {', '.join(SCOPES)})"
            )
        name = entry.get("name", f"key{index}")
        keys.append(ApiKey(entry["key"], frozenset(scopes), str(name)))
    return keys


def required_scope(method: str, request: Any) -> str | None:
    """The scope ``method`` needs for ``request``; ``None`` for open methods."""
    if method.startswith(_OPEN_PREFIXES):
        return None
    if method.startswith(_CONTROL_PREFIX):
        return "admin"
    if method == _INVOKE:
        kind = getattr(request, "kind", 0)
        if kind in _SECURE_KINDS:
            return "invoke:secure"
        if kind in _WRITE_KINDS:
            return "invoke:write"
        if kind == _K.MX_COMMAND_KIND_DRAIN_EVENTS:
            return "events:read"
        return "invoke:read"
    return _FIXED_SCOPES.get(method, "admin")


def bearer_token(metadata: Sequence[tuple[str, Any]] | None) -> str | None:
    """The token of the ``authorization: Bearer ...`` header, or ``None``."""
    for name, value in metadata or ():
        if name.lower() != "authorization":
            continue
        text = value.decode() if isinstance(value, bytes) else str(value)
        scheme, _, token = text.strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return None


_Behaviour = Callable[[Any, Any], Any]


class AuthInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Checks the bearer key and the method's scope before every unary and streaming call."""

    def __init__(self, keys: KeyStore) -> None:
        self._keys = keys

    def check(self, method: str, request: Any, metadata: Any) -> tuple[grpc.StatusCode, str] | None:
        """The status to abort with, or ``None`` when the call may proceed."""
        scope = required_scope(method, request)
        if scope is None or not self._keys.enabled:
            return None
        token = bearer_token(metadata)
        if log.isEnabledFor(logging.DEBUG):
            shown = REDACTED if token is not None else "(no authorization)"
            log.debug("%s needs %s; authorization: %s", method, scope, shown)
        if token is None:
            return grpc.StatusCode.UNAUTHENTICATED, MISSING_TOKEN
        key = self._keys.lookup(token)
        if key is None:
            return grpc.StatusCode.UNAUTHENTICATED, BAD_TOKEN
        if not key.allows(scope):
            return grpc.StatusCode.PERMISSION_DENIED, f"authorization failed: missing scope {scope}"
        return None

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or not self._keys.enabled or method.startswith(_OPEN_PREFIXES):
            return handler
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap_unary(method, handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_stream(method, handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler

    def _wrap_unary(self, method: str, inner: _Behaviour) -> _Behaviour:
        async def behaviour(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            failure = self.check(method, request, context.invocation_metadata())
            if failure is not None:
                await context.abort(*failure)
            return await inner(request, context)

        return behaviour

    def _wrap_stream(self, method: str, inner: _Behaviour) -> _Behaviour:
        async def behaviour(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            failure = self.check(method, request, context.invocation_metadata())
            if failure is not None:
                await context.abort(*failure)
            async for message in inner(request, context):
                yield message

        return behaviour
