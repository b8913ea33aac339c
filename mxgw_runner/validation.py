"""Schema validation of scenario documents with located, readable errors.

The top level is validated against the loader flavour of the schema; each
step is then dispatched on its step key: an unknown key gives one error with a
suggestion, a known one is validated against that step's own fragment. Every
``jsonschema`` error is translated into a short message located at the key or
value it is about, and ``anyOf`` failures are reduced to the branch the user
evidently meant.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema  # type: ignore[import-untyped, unused-ignore]

from mxgw_runner.schema import build_scenario_schema
from mxgw_runner.steptypes import COMMON_STEP_KEYS, StepRegistry
from mxgw_runner.yamlsource import display_path, escape_pointer_token

_SHALLOW = frozenset({"type", "const", "enum", "pattern", "format"})


@dataclass(frozen=True, slots=True)
class Problem:
    """A validation problem: where (JSON pointer; ``key`` if about the key itself) and what."""

    pointer: str
    message: str
    key: bool = False

    @property
    def path(self) -> str:
        """The pointer as users read it (``steps[2].write.value``)."""
        return display_path(self.pointer)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "null": "empty",
}


def _did_you_mean(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" — did you mean {close[0]!r}?" if close else ""


def _pointer(base: str, path: Iterable[Any]) -> str:
    return base + "".join("/" + escape_pointer_token(p) for p in path)


class _Translator:
    """Turns jsonschema errors into :class:`Problem` s."""

    def __init__(self, base: str) -> None:
        self.base = base

    def translate(self, error: Any) -> list[Problem]:
        pointer = _pointer(self.base, error.absolute_path)
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        validator = error.validator
        instance = error.instance
        if validator in ("anyOf", "oneOf", "not"):
            return self._alternatives(error, pointer, schema)
        if validator == "additionalProperties" and isinstance(instance, Mapping):
            allowed = list(schema.get("properties", {}))
            out = []
            for key in instance:
                if key not in allowed:
                    hint = _did_you_mean(str(key), allowed)
                    if not hint and allowed:
                        hint = f" (allowed: {', '.join(allowed)})"
                    if not allowed:
                        hint = " (this step takes no keys)"
                    out.append(
                        Problem(_pointer(pointer, [key]), f"unknown key {key!r}{hint}", key=True)
                    )
            return out
        if validator == "required":
            missing = [k for k in error.validator_value if k not in instance]
            return [Problem(pointer, f"missing required key {k!r}") for k in missing]
        if validator == "dependentRequired":
            return [Problem(pointer, _dependent_message(error.validator_value, instance))]
        if validator == "type":
            wanted = error.validator_value
            wanted_list = wanted if isinstance(wanted, list) else [wanted]
            words = " or ".join(_TYPE_WORDS.get(str(w), str(w)) for w in wanted_list)
            return [Problem(pointer, f"must be {words}, not {_json_type(instance)}")]
        if validator == "enum":
            options = [str(o) for o in error.validator_value]
            hint = _did_you_mean(str(instance), options) if isinstance(instance, str) else ""
            return [Problem(pointer, f"must be one of: {', '.join(options)}{hint}")]
        if validator == "const":
            return [Problem(pointer, f"must be {error.validator_value!r}")]
        if validator == "propertyNames":
            return [
                Problem(
                    pointer, "names must be letters, digits, _ and - (not starting with a digit)"
                )
            ]
        if validator == "pattern":
            message = schema.get("errorMessage") or schema.get("description")
            return [Problem(pointer, str(message or f"does not match {error.validator_value!r}"))]
        if validator == "minProperties" and error.validator_value == 1:
            return [Problem(pointer, "must not be empty")]
        if validator == "minLength" and error.validator_value == 1:
            return [Problem(pointer, "must not be empty")]
        return [Problem(pointer, str(error.message))]

    def _alternatives(self, error: Any, pointer: str, schema: Mapping[str, Any]) -> list[Problem]:
        by_branch: dict[Any, list[Any]] = {}
        for sub in error.context or ():
            by_branch.setdefault(sub.schema_path[0] if sub.schema_path else None, []).append(sub)
        compatible = [
            errs
            for errs in by_branch.values()
            if not any(e.validator in _SHALLOW and not e.relative_path for e in errs)
        ]
        deep = [
            errs
            for errs in compatible
            if any(
                e.relative_path or e.validator in ("additionalProperties", "anyOf", "oneOf")
                for e in errs
            )
        ]
        if deep:
            branch = min(deep, key=len)
            out: list[Problem] = []
            for sub in branch:
                out.extend(self.translate(sub))
            return out
        if len(compatible) == 1:
            out = []
            for sub in compatible[0]:
                out.extend(self.translate(sub))
            return out
        message = schema.get("errorMessage")
        if message:
            hint = ""
            if isinstance(error.instance, str):
                options = [
                    str(o)
                    for sub in error.context or ()
                    if sub.validator == "enum"
                    for o in sub.validator_value
                ]
                hint = _did_you_mean(error.instance, options)
            return [Problem(pointer, str(message) + hint)]
        return [
            Problem(
                pointer, "is not valid here" if error.validator != "not" else str(error.message)
            )
        ]


def _dependent_message(rules: Mapping[str, list[str]], instance: Mapping[str, Any]) -> str:
    for key, needed in rules.items():
        if key in instance:
            missing = [n for n in needed if n not in instance]
            if missing:
                return f"{key!r} needs {', '.join(repr(m) for m in missing)}"
    return "missing a key another key needs"


def _sort_key(problem: Problem) -> tuple[str, str]:
    return (problem.pointer, problem.message)


class ScenarioValidator:
    """Validates scenario documents and step bodies against the registry's schema."""

    def __init__(self, registry: StepRegistry) -> None:
        self.registry = registry
        self.schema = build_scenario_schema(registry, for_loader=True)
        cls = jsonschema.Draft202012Validator
        self._defs = self.schema["$defs"]
        self._top = cls(_inline_refs(self.schema, self._defs))
        self._step_validators: dict[str, Any] = {}
        self._valid_bodies: set[Any] = set()
        self._common = {
            "name": cls({"$defs": self._defs, "type": "string"}),
            "timeout": cls({"$defs": self._defs, "$ref": "#/$defs/duration"}),
        }

    def _validator_for(self, kind: str) -> Any:
        validator = self._step_validators.get(kind)
        if validator is None:
            body = _inline_refs({"$ref": f"#/$defs/step-{kind}"}, self._defs)
            if "$ref" in body:  # a fragment that refers to itself: keep the reference
                body = {"$ref": f"#/$defs/step-{kind}"}
            validator = jsonschema.Draft202012Validator({**body, "$defs": self._defs})
            self._step_validators[kind] = validator
        return validator

    def _run(self, validator: Any, instance: Any, base: str) -> list[Problem]:
        translator = _Translator(base)
        out: list[Problem] = []
        for error in validator.iter_errors(instance):
            out.extend(translator.translate(error))
        return _dedupe(out)

    def validate_top(self, data: Mapping[str, Any]) -> list[Problem]:
        """Top-level keys and shapes (steps only as "a list of mappings")."""
        return self._run(self._top, data, "")

    def validate_body(self, kind: str, body: Any, pointer: str) -> list[Problem]:
        """A step body against its step type's fragment (``pointer`` is the body's).

        A body equal (same types, same values) to one already found valid is valid: suites
        repeat bodies such as ``advise: v`` or ``close-session: {}`` many times, and the
        schema walk is the costly part of loading them.
        """
        try:
            key: Any = (kind, _frozen(body))
        except TypeError:  # something unhashable: validate it every time
            key = None
        if key is not None and key in self._valid_bodies:
            return []
        problems = self._run(self._validator_for(kind), body, pointer)
        if key is not None and not problems:
            if len(self._valid_bodies) >= _VALID_BODIES_KEPT:
                self._valid_bodies.clear()
            self._valid_bodies.add(key)
        return problems

    def step_kind(self, step: Any, pointer: str) -> tuple[str | None, list[Problem]]:
        """The step key of one step mapping, or the one clear problem with it."""
        if not isinstance(step, Mapping):
            return None, [
                Problem(
                    pointer,
                    f"a step must be a mapping such as '- wait: 1s', not {_json_type(step)}",
                )
            ]
        keys = [k for k in step if k not in COMMON_STEP_KEYS]
        known = [k for k in keys if k in self.registry]
        unknown = [k for k in keys if k not in self.registry]
        if len(known) == 1 and not unknown:
            return known[0], []
        if not keys:
            return None, [
                Problem(pointer, "step has no step key (such as write: or expect-event:)")
            ]
        if len(known) > 1:
            return None, [
                Problem(
                    pointer,
                    "a step has exactly one step key; found "
                    + " and ".join(repr(k) for k in known)
                    + " (start a new '- ' entry for each)",
                )
            ]
        problems = []
        for key in unknown:
            if known:
                hint = _did_you_mean(str(key), COMMON_STEP_KEYS)
                if not hint and isinstance(step.get(known[0]), Mapping | None):
                    hint = (
                        f" (beside {known[0]!r} a step takes only name and timeout;"
                        f" indent it under {known[0]}:?)"
                    )
                elif not hint:
                    hint = f" (beside {known[0]!r} a step takes only name and timeout)"
                message = f"unknown key {key!r}{hint}"
            else:
                suggestion = self.registry.suggest(str(key))
                if suggestion:
                    hint = f" — did you mean {suggestion!r}?"
                else:
                    hint = f" (known steps: {', '.join(self.registry.names())})"
                message = f"unknown step {key!r}{hint}"
            problems.append(Problem(_pointer(pointer, [key]), message, key=True))
        return (known[0] if known else None), problems

    def validate_common(self, step: Mapping[str, Any], pointer: str) -> list[Problem]:
        """The ``name`` and ``timeout`` keys every step may carry."""
        out: list[Problem] = []
        for key in COMMON_STEP_KEYS:
            if key in step:
                out.extend(self._run(self._common[key], step[key], _pointer(pointer, [key])))
        return out


_DEFS_REF = "#/$defs/"
_LITERAL_KEYWORDS = frozenset({"$defs", "const", "enum", "default", "examples"})


def _inline_refs(node: Any, defs: Mapping[str, Any], within: tuple[str, ...] = ()) -> Any:
    """``node`` with every bare ``{"$ref": "#/$defs/x"}`` replaced by ``x`` itself (the
    same checks without a reference lookup per instance, the costliest part of a schema walk;
    a definition that refers back to itself keeps its reference)."""
    if isinstance(node, Mapping):
        ref = node.get("$ref")
        if len(node) == 1 and isinstance(ref, str) and ref.startswith(_DEFS_REF):
            name = ref[len(_DEFS_REF) :]
            if name in defs and name not in within and not set(name) & {"/", "~", "%"}:
                return _inline_refs(defs[name], defs, (*within, name))
            return node
        return {
            key: value if key in _LITERAL_KEYWORDS else _inline_refs(value, defs, within)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_inline_refs(value, defs, within) for value in node]
    return node


_VALID_BODIES_KEPT = 4096
"""Bodies remembered as valid per validator (then it starts over: bounded memory)."""


def _frozen(value: Any) -> Any:
    """A hashable form of a YAML/JSON value that keeps types apart (``1``, ``1.0``, ``True``
    and ``"1"`` all differ); TypeError for anything else unhashable."""
    if isinstance(value, Mapping):
        return (
            "map",
            tuple(sorted(((str(k), type(k).__name__, _frozen(v)) for k, v in value.items()))),
        )
    if isinstance(value, list | tuple):
        return ("seq", tuple(_frozen(v) for v in value))
    hash(value)
    return (type(value).__name__, value)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[str, str, bool]] = set()
    out = []
    for p in problems:
        marker = (p.pointer, p.message, p.key)
        if marker not in seen:
            seen.add(marker)
            out.append(p)
    return out
