"""Variables: ``${name}``, ``${row.column}``, ``${env:NAME}``, ``${env:NAME:-default}``.

* ``$${`` writes a literal ``${``.
* A string that is exactly one ``${...}`` takes the variable's value and type
  (``value: ${setpoint}`` stays the number 42.5); inside longer text values are
  inserted as text.
* Values from the environment and from ``--var`` are text parsed as a YAML
  scalar (``--var sp=42.5`` is a number, ``--var name=abc`` a string).
* ``${secret-env:NAME}`` reads the environment like ``env:`` and marks the value
  secret: reports mask it and error messages never show it. A variable whose
  definition uses a secret is itself secret.
* Precedence of sources: ``--var`` over ``--vars-file`` over ``vars:``; run-time
  ``save:`` and ``for-each`` bindings shadow them while in force.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping, MutableSet, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

__all__ = [
    "UNKNOWN",
    "RowShape",
    "TemplateError",
    "VarRef",
    "VariableError",
    "find_references",
    "format_value",
    "parse_scalar",
    "parse_template",
    "resolve",
    "single_reference",
]

_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_VAR_EXPR = re.compile(rf"^(?P<root>{_NAME})(?P<rest>(?:\.(?:{_NAME}|[0-9]+))*)$")
_ENV_EXPR = re.compile(
    rf"^(?P<src>env|secret-env):(?P<name>{_ENV_NAME})(?::-(?P<default>.*))?$", re.S
)
_TOKEN = re.compile(r"\$\$\{|\$\{")


class VariableError(ValueError):
    """A variable reference cannot be parsed or resolved; ``pointer`` says where in the value."""

    def __init__(self, message: str, pointer: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.pointer = pointer


class TemplateError(VariableError):
    """A string's ``${...}`` syntax is malformed."""


@dataclass(frozen=True, slots=True)
class VarRef:
    """One ``${...}`` reference: a variable path, or an environment lookup."""

    text: str
    source: str  # "var" | "env" | "secret-env"
    name: str
    path: tuple[str, ...] = ()
    default: str | None = None

    @property
    def secret(self) -> bool:
        """True for ``${secret-env:...}``."""
        return self.source == "secret-env"


class _Unknown:
    """Placeholder for a variable bound only at run time (``save:``)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


#: A value known to exist at run time but not yet (used for the static check).
UNKNOWN: Final = _Unknown()


@dataclass(frozen=True, slots=True)
class RowShape:
    """Stands for a ``for-each`` row during the static check: its known columns, if any."""

    columns: frozenset[str] | None


Piece = str | VarRef


def _parse_expr(expr: str) -> VarRef:
    m = _ENV_EXPR.match(expr)
    if m:
        default = m.group("default")
        if default is not None and "${" in default:
            raise TemplateError(f"a default cannot contain ${{...}}: ${{{expr}}}")
        return VarRef(f"${{{expr}}}", m.group("src"), m.group("name"), (), default)
    m = _VAR_EXPR.match(expr)
    if m:
        rest = m.group("rest")
        path = tuple(rest[1:].split(".")) if rest else ()
        return VarRef(f"${{{expr}}}", "var", m.group("root"), path)
    if expr.startswith(("env:", "secret-env:")):
        raise TemplateError(f"bad environment reference ${{{expr}}} (write ${{env:NAME}})")
    raise TemplateError(
        f"bad variable reference ${{{expr}}} (names are letters, digits, _ and -; "
        "dots select a key, as in ${row.column})"
    )


def parse_template(text: str) -> list[Piece]:
    """Split a string into literal text and :class:`VarRef` pieces.

    Raises :class:`TemplateError` for ``${`` without a closing ``}`` or a bad name.
    """
    pieces: list[Piece] = []
    literal: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        if m.start() < pos:
            continue
        literal.append(text[pos : m.start()])
        if m.group() == "$${":
            literal.append("${")
            pos = m.end()
            continue
        close = text.find("}", m.end())
        if close < 0:
            raise TemplateError(
                f"unterminated ${{ in {text!r}" if len(text) < 80 else "unterminated ${"
            )
        if literal:
            joined = "".join(literal)
            if joined:
                pieces.append(joined)
            literal = []
        pieces.append(_parse_expr(text[m.end() : close]))
        pos = close + 1
    literal.append(text[pos:])
    joined = "".join(literal)
    if joined:
        pieces.append(joined)
    return pieces


def _has_marker(text: str) -> bool:
    return "${" in text


def single_reference(text: str) -> VarRef | None:
    """The reference if ``text`` is exactly one ``${...}``, else None."""
    if not text.startswith("${") or not text.endswith("}"):
        return None
    pieces = parse_template(text)
    if len(pieces) == 1 and isinstance(pieces[0], VarRef):
        return pieces[0]
    return None


def iter_strings(value: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    """Every string containing ``${`` in a nested value, with its JSON pointer."""
    if isinstance(value, str):
        if _has_marker(value):
            yield pointer, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from iter_strings(item, f"{pointer}/{_esc(str(key))}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from iter_strings(item, f"{pointer}/{i}")


def find_references(value: Any, pointer: str = "") -> Iterator[tuple[str, VarRef]]:
    """Every reference in a nested value, with the JSON pointer of the string holding it.

    Raises :class:`TemplateError` (with ``pointer`` set) for malformed templates.
    """
    for where, text in iter_strings(value, pointer):
        try:
            pieces = parse_template(text)
        except TemplateError as exc:
            raise TemplateError(exc.message, where) from None
        for piece in pieces:
            if isinstance(piece, VarRef):
                yield where, piece


def _esc(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


#: Text that is plainly a name (``Pump101.SP``, ``North_plant``): a string in YAML 1.2
#: unless it is one of the words below. Such text skips the YAML parser, which costs tens
#: of microseconds a value (a 100,000-row CSV checklist).
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_WORDS = frozenset(("true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL"))


#: Numbers every YAML version reads the same way (no leading zeros, no exponent): these
#: skip the parser too.
_PLAIN_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_PLAIN_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+")


def parse_scalar(text: str) -> Any:
    """Text from ``--var`` or the environment as a YAML 1.2 scalar: ``42.5`` → 42.5.

    Anything that is not a plain scalar (a list, a mapping, invalid YAML) stays text.
    """
    if _PLAIN_NAME.fullmatch(text) and text not in _WORDS:
        return text
    if _PLAIN_INT.fullmatch(text):
        return int(text)
    if _PLAIN_FLOAT.fullmatch(text):
        return float(text)
    return _parse_scalar_yaml(text)


@lru_cache(maxsize=4096)
def _parse_scalar_yaml(text: str) -> Any:
    """:func:`parse_scalar` through the YAML parser (results are immutable scalars or text)."""
    from mxgw_runner.errors import ScenarioError
    from mxgw_runner.yamlsource import parse_yaml  # local: avoids an import cycle

    if text == "" or text.strip() != text or "\n" in text:
        return text
    try:
        doc = parse_yaml(text, "<value>")
    except ScenarioError:
        return text
    data = doc.data
    if data is None and text not in ("~", "null", "Null", "NULL"):
        return text
    if isinstance(data, dict | list):
        return text
    return data


def format_value(value: Any) -> str:
    """A value as inserted into longer text: YAML-style booleans and null, JSON for lists."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return repr(value)
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def lookup(ref: VarRef, variables: Mapping[str, Any]) -> Any:
    """Value of a ``var`` reference, following its dotted path; :class:`VariableError` if absent.

    Messages name variables and keys, never values (which may be secret).
    """
    if ref.name not in variables:
        raise VariableError(f"unknown variable {ref.text}" + _suggest(ref.name, variables))
    value = variables[ref.name]
    walked = ref.name
    for key in ref.path:
        if isinstance(value, _Unknown):
            return UNKNOWN
        if isinstance(value, RowShape):
            if value.columns is not None and key not in value.columns:
                raise VariableError(
                    f"{ref.text}: {walked} has no column {key!r}"
                    + _suggest(key, value.columns, noun="columns")
                )
            return UNKNOWN
        if isinstance(value, Mapping):
            if key not in value:
                raise VariableError(
                    f"{ref.text}: {walked} has no key {key!r}" + _suggest(key, value, noun="keys")
                )
            value = value[key]
        elif isinstance(value, list | tuple) and key.isdigit():
            index = int(key)
            if index >= len(value):
                raise VariableError(f"{ref.text}: {walked} has only {len(value)} entries")
            value = value[index]
        else:
            raise VariableError(f"{ref.text}: {walked} has no keys (it is not a mapping)")
        walked += "." + key
    return value


def _suggest(name: str, options: Any, *, noun: str = "variables") -> str:
    import difflib

    names = [str(o) for o in options]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    if close:
        return f" — did you mean {close[0]!r}?"
    if not names:
        return f" (no {noun} are defined)"
    if len(names) <= 8:
        return f" (known {noun}: {', '.join(sorted(names))})"
    return ""


def _env_value(ref: VarRef, env: Mapping[str, str], secrets: MutableSet[str] | None) -> Any:
    if ref.name in env:
        text = env[ref.name]
    elif ref.default is not None:
        text = ref.default
    else:
        raise VariableError(f"environment variable {ref.name} is not set (in {ref.text})")
    if ref.secret and secrets is not None and text:
        secrets.add(text)
    return text


def _resolve_ref(
    ref: VarRef,
    variables: Mapping[str, Any],
    env: Mapping[str, str],
    secrets: MutableSet[str] | None,
    *,
    whole: bool,
) -> Any:
    if ref.source == "var":
        return lookup(ref, variables)
    text = _env_value(ref, env, secrets)
    return parse_scalar(text) if whole else text


def resolve(
    value: Any,
    variables: Mapping[str, Any],
    env: Mapping[str, str],
    *,
    secrets: MutableSet[str] | None = None,
    pointer: str = "",
) -> Any:
    """Substitute every reference in a nested value; new containers, inputs untouched.

    ``secrets`` collects the text of every ``secret-env`` value used, for masking.
    Raises :class:`VariableError` with the JSON pointer of the offending string.
    """
    if isinstance(value, str):
        if "$" not in value:
            return value
        try:
            pieces = parse_template(value)
            if len(pieces) == 1 and isinstance(pieces[0], VarRef):
                return _resolve_ref(pieces[0], variables, env, secrets, whole=True)
            out: list[str] = []
            for piece in pieces:
                if isinstance(piece, str):
                    out.append(piece)
                else:
                    out.append(
                        format_value(_resolve_ref(piece, variables, env, secrets, whole=False))
                    )
            return "".join(out)
        except VariableError as exc:
            raise type(exc)(exc.message, pointer) from None
    if isinstance(value, Mapping):
        return {
            k: resolve(v, variables, env, secrets=secrets, pointer=f"{pointer}/{_esc(str(k))}")
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [
            resolve(v, variables, env, secrets=secrets, pointer=f"{pointer}/{i}")
            for i, v in enumerate(value)
        ]
    return value


def check(
    value: Any, known: Mapping[str, Any], env: Mapping[str, str], pointer: str = ""
) -> list[VariableError]:
    """The static check: every reference in ``value`` must be resolvable.

    ``known`` holds static values, :data:`UNKNOWN` for run-time bindings and
    :class:`RowShape` for ``for-each`` rows. Returns every problem (no raise).
    """
    problems: list[VariableError] = []
    for where, text in iter_strings(value, pointer):
        try:
            pieces = parse_template(text)
        except TemplateError as exc:
            problems.append(TemplateError(exc.message, where))
            continue
        for ref in pieces:
            if not isinstance(ref, VarRef):
                continue
            try:
                if ref.source == "var":
                    lookup(ref, known)
                else:
                    _env_value(ref, env, None)
            except VariableError as exc:
                problems.append(VariableError(exc.message, where))
    return problems


def uses_secret(value: Any, secret_names: frozenset[str] | set[str]) -> bool:
    """True if ``value`` refers to ``secret-env`` or to a secret variable."""
    try:
        return any(
            ref.secret or (ref.source == "var" and ref.name in secret_names)
            for _, ref in find_references(value)
        )
    except TemplateError:
        return False


def split_assignment(text: str) -> tuple[str, Any]:
    """Parse a ``--var name=value`` argument; the value as a YAML scalar."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep:  # the value is not echoed: it may be something only this shell should see
        raise VariableError(f"{name!r}: expected name=value (like setpoint=40)")
    if not re.fullmatch(_NAME, name):
        raise VariableError(
            f"{name!r}=...: a variable name is a letter or _, then letters, digits, _ or -"
        )
    return name, parse_scalar(raw)


def names_in(refs: Sequence[tuple[str, VarRef]]) -> set[str]:
    """Root names of the ``var`` references in a list from :func:`find_references`."""
    return {ref.name for _, ref in refs if ref.source == "var"}
