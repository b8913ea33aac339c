"""Galaxy files: YAML with line marks → JSON schema → checks across objects → :class:`Galaxy`.

Every problem is reported at once, each located by file, line, column and key path, as a
:class:`GalaxyError` (a ``ScenarioError``, so tools print it the way they print scenario
errors). Passwords never appear in a message.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped,unused-ignore]

from mxgw_runner.errors import Diagnostic, ScenarioError
from mxgw_runner.yamlsource import YamlDocument, parse_yaml, pointer_of, read_text
from mxgw_sim.galaxy.builder import GalaxyBuilder, locate
from mxgw_sim.galaxy.model import Galaxy

__all__ = [
    "DEFAULT_GALAXY",
    "GalaxyError",
    "default_galaxy",
    "galaxy_schema",
    "load_galaxy",
    "parse_galaxy",
]

#: Name shown in messages for the galaxy shipped with the package.
DEFAULT_GALAXY = "<default galaxy>"


class GalaxyError(ScenarioError):
    """A galaxy file is invalid; ``diagnostics`` lists every problem with its location."""


@functools.cache
def galaxy_schema() -> dict[str, Any]:
    """The galaxy JSON schema (draft 2020-12) shipped in ``mxgw_sim/schemas``."""
    text = resources.files("mxgw_sim").joinpath("schemas/galaxy.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(galaxy_schema())


@functools.cache
def default_galaxy() -> Galaxy:
    """The galaxy shipped with the package (documented in docs/galaxy.md); parsed once."""
    text = resources.files("mxgw_sim.galaxy").joinpath("default_galaxy.yaml").read_text("utf-8")
    return parse_galaxy(text, DEFAULT_GALAXY)


def load_galaxy(path: Path | str | None = None) -> Galaxy:
    """Load a galaxy file, or the default galaxy when ``path`` is None."""
    if path is None:
        return default_galaxy()
    name = str(path)
    try:
        text = read_text(Path(path), display=name)
    except ScenarioError as exc:
        raise GalaxyError(exc.diagnostics) from None
    return parse_galaxy(text, name)


def parse_galaxy(text: str, file: str = "<galaxy>") -> Galaxy:
    """Parse galaxy YAML text; raise :class:`GalaxyError` listing every problem."""
    try:
        doc = parse_yaml(text, file)
    except ScenarioError as exc:
        raise GalaxyError(exc.diagnostics) from None
    if doc.data is None:
        raise GalaxyError([Diagnostic(file, None, None, "", "the galaxy file is empty")])
    problems = _schema_problems(doc)
    if problems:
        raise GalaxyError(_sorted(problems))
    builder = GalaxyBuilder(doc)
    galaxy = builder.build()
    if builder.problems:
        raise GalaxyError(_sorted(builder.problems))
    return galaxy


def _sorted(problems: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(problems, key=lambda d: (d.line or 0, d.column or 0, d.path))


# --------------------------------------------------------------------------- schema errors


def _schema_problems(doc: YamlDocument) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for error in _validator().iter_errors(doc.data):
        out.extend(_describe(doc, error))
    return out


def _describe(doc: YamlDocument, error: jsonschema.ValidationError) -> list[Diagnostic]:
    pointer = pointer_of(error.absolute_path)
    validator = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    instance = error.instance
    if validator == "additionalProperties" and isinstance(instance, dict):
        known = sorted(schema.get("properties", {}))
        out = []
        for extra in sorted(set(instance) - set(known)):
            message = f"unknown key {extra!r}"
            close = difflib.get_close_matches(extra, known, n=1)
            if close:
                message += f" (did you mean {close[0]!r}?)"
            elif known:
                message += f"; expected one of: {', '.join(known)}"
            out.append(locate(doc, f"{pointer}/{extra}", message, key=True))
        return out
    if validator == "required":
        missing = [k for k in schema.get("required", []) if k not in instance]
        return [locate(doc, pointer, f"missing required key {k!r}") for k in missing]
    if validator == "enum":
        options = [str(c) for c in error.validator_value]
        if pointer.endswith("/type"):
            options = [o for o in options if not o.endswith("[]")]
        message = f"{_short(instance)} is not one of: {', '.join(options)}"
        if pointer.endswith("/type"):
            message += " (add [] for an array)"
        close = difflib.get_close_matches(str(instance), options, n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
        return [locate(doc, pointer, message)]
    if validator == "const":
        return [locate(doc, pointer, f"must be {json.dumps(error.validator_value)}")]
    if validator == "pattern" and pointer.endswith("/behaviour"):
        return [
            locate(
                doc,
                pointer,
                f"{_short(instance)} is not a behaviour; use 'static' or "
                "a mapping with one of ramp, sine, random-walk, toggle, follows",
            )
        ]
    if validator == "pattern" and "duration" in str(schema.get("description", "")):
        return [
            locate(
                doc,
                pointer,
                f"{_short(instance)} is not a duration (write e.g. 10s, 250ms, 2m, 1h or 1m30s)",
            )
        ]
    if validator == "pattern" and pointer.endswith("/name"):
        return [
            locate(
                doc,
                pointer,
                f"{_short(instance)} is not a valid name (letters, digits, "
                "_ $ # @ ! % & -; at most 32 characters per part)",
            )
        ]
    if validator in ("minProperties", "maxProperties") and pointer.endswith("/behaviour"):
        return [
            locate(
                doc,
                pointer,
                "a behaviour mapping has exactly one key (ramp, sine, "
                "random-walk, toggle or follows)",
            )
        ]
    if validator == "type" and "password" in pointer:
        return [locate(doc, pointer, "the password must be a string")]
    message = "invalid password" if "password" in pointer else error.message
    return [locate(doc, pointer, message)]


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
