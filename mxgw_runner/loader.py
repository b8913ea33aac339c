"""Loading scenario files: YAML with marks → schema → variables → :class:`Scenario`.

All problems of a file (and of the files it includes or reads) are collected
and raised together as one :class:`~mxgw_runner.errors.ScenarioError`; user
mistakes never surface as a traceback. Step bodies keep their variable
templates: :func:`resolve_step_params` is the run-time (late binding) half.

Limits: files up to :data:`~mxgw_runner.yamlsource.MAX_FILE_BYTES`, nesting up
to :data:`~mxgw_runner.yamlsource.MAX_DEPTH`, at most
:data:`~mxgw_runner.yamlsource.MAX_ALIASES` aliases, includes nested up to
:data:`MAX_INCLUDE_DEPTH`, CSV files up to :data:`MAX_CSV_ROWS` rows.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Mapping, MutableSet, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mxgw_runner import variables as V
from mxgw_runner.csvrows import MAX_CSV_ROWS, CsvProblem, parse_rows
from mxgw_runner.durations import DurationError, parse_duration
from mxgw_runner.errors import Diagnostic, ScenarioError
from mxgw_runner.model import Location, Scenario, Step, Timeouts
from mxgw_runner.redact import Redactor
from mxgw_runner.steptypes import StepRegistry
from mxgw_runner.validation import Problem, ScenarioValidator
from mxgw_runner.yamlsource import (
    Mark,
    YamlDocument,
    display_path,
    escape_pointer_token,
    read_text,
    read_yaml_file,
)

#: Steps whose body keys may use the row variable (``check-items``), and those keys.
ROW_TEMPLATE_STEPS = frozenset({"check-items"})
ROW_TEMPLATE_KEYS = ("item", "alias", "value", "quality")
#: Deepest chain of ``include`` steps.
MAX_INCLUDE_DEPTH = 8

__all__ = [
    "MAX_CSV_ROWS",
    "MAX_INCLUDE_DEPTH",
    "check_scenario",
    "get_validator",
    "load_scenario",
    "load_vars_file",
    "parse_cli_vars",
    "resolve_step_params",
]


@lru_cache(maxsize=8)
def _validator_for(registry: StepRegistry) -> ScenarioValidator:
    return ScenarioValidator(registry)


def get_validator(registry: StepRegistry | None = None) -> ScenarioValidator:
    """The (cached) validator of a registry; the built-in registry when None."""
    if registry is None:
        registry = _builtin_registry()
    return _validator_for(registry)


@lru_cache(maxsize=1)
def _builtin_registry() -> StepRegistry:
    from mxgw_runner.plugins import default_registry

    return default_registry()


def parse_cli_vars(assignments: Sequence[str]) -> dict[str, Any]:
    """``--var name=value`` arguments → values (YAML scalars); ScenarioError on a bad one."""
    out: dict[str, Any] = {}
    problems = []
    for text in assignments:
        try:
            name, value = V.split_assignment(text)
        except V.VariableError as exc:
            problems.append(Diagnostic("--var", None, None, "", exc.message))
            continue
        out[name] = value
    if problems:
        raise ScenarioError(problems)
    return out


def load_vars_file(path: Path) -> YamlDocument:
    """Read a ``--vars-file`` (a YAML mapping of names to values)."""
    doc = read_yaml_file(path)
    if not isinstance(doc.data, dict):
        raise ScenarioError.single(
            doc.file, "a vars file must be a mapping of names to values", line=1, column=1
        )
    return doc


@dataclass
class _Layer:
    """One source of static variables, lowest precedence first."""

    label: str
    values: Mapping[str, Any]
    doc: YamlDocument | None
    base: str  # JSON pointer of the mapping within doc
    literal: bool = False  # --var values are not templates


@dataclass
class _FileScope:
    """Static variables of one file and what is secret among them."""

    values: dict[str, Any]
    secret_names: set[str]


@dataclass
class _Loaded:
    """A file that parsed: its document, its static scope, its steps and the names it saves."""

    doc: YamlDocument
    data: dict[str, Any]
    scope: _FileScope
    steps: tuple[Step, ...]
    saved: set[str]


@dataclass
class _Run:
    """State of one :func:`check_scenario` call."""

    validator: ScenarioValidator
    env: Mapping[str, str]
    cli: Mapping[str, Any]
    vars_docs: list[YamlDocument]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    secret_values: set[str] = field(default_factory=set)
    _sorted_marks: dict[int, list[str]] = field(default_factory=dict)

    # -- diagnostics -------------------------------------------------------

    def at(self, doc: YamlDocument, pointer: str, message: str, *, key: bool = False) -> None:
        mark = doc.locate(pointer, key=key)
        self.diagnostics.append(
            Diagnostic(
                doc.file,
                mark.line if mark else None,
                mark.column if mark else None,
                display_path(pointer),
                message,
            )
        )

    def problems(self, doc: YamlDocument, problems: Sequence[Problem]) -> None:
        for p in problems:
            self.at(doc, p.pointer, p.message, key=p.key)

    def marks_under(self, doc: YamlDocument, pointer: str) -> list[tuple[str, Mark]]:
        """Marks of ``pointer`` and everything below it (a sorted-key range, not a scan)."""
        keys = self._sorted_marks.get(id(doc))
        if keys is None:
            keys = sorted(doc.marks)
            self._sorted_marks[id(doc)] = keys
        out = []
        below = pointer + "/"
        for i in range(bisect.bisect_left(keys, pointer), len(keys)):
            key = keys[i]
            if key == pointer or key.startswith(below):
                out.append((key, doc.marks[key]))
            elif not key.startswith(pointer):
                break
        return out

    # -- variables ---------------------------------------------------------

    def static_vars(self, doc: YamlDocument, raw_vars: Any) -> _FileScope:
        layers = [_Layer("vars", raw_vars if isinstance(raw_vars, dict) else {}, doc, "/vars")]
        layers += [_Layer("vars-file", d.data, d, "") for d in self.vars_docs]
        layers.append(_Layer("--var", self.cli, None, "", literal=True))
        winner: dict[str, _Layer] = {}
        for layer in layers:
            for name in layer.values:
                winner[name] = layer
        scope = _FileScope({}, set())
        resolving: list[str] = []

        def report(layer: _Layer, name: str, pointer: str, message: str) -> None:
            if layer.doc is None:
                self.diagnostics.append(Diagnostic("--var", None, None, name, message))
            else:
                self.at(layer.doc, pointer or f"{layer.base}/{escape_pointer_token(name)}", message)

        def resolve_name(name: str) -> bool:
            if name in scope.values:
                return True
            layer = winner[name]
            raw = layer.values[name]
            where = f"{layer.base}/{escape_pointer_token(name)}"
            if layer.literal:
                scope.values[name] = raw
                return True
            if name in resolving:
                cycle = " → ".join([*resolving[resolving.index(name) :], name])
                report(layer, name, where, f"variables refer to each other in a circle: {cycle}")
                return False
            resolving.append(name)
            try:
                try:
                    refs = list(V.find_references(raw, where))
                except V.TemplateError as exc:
                    report(layer, name, exc.pointer, exc.message)
                    return False
                ok = True
                for ref_where, ref in refs:
                    if ref.source != "var":
                        continue
                    if ref.name not in winner:
                        report(
                            layer,
                            name,
                            ref_where,
                            f"unknown variable {ref.text} "
                            "(vars may use other vars and ${env:...})",
                        )
                        ok = False
                    elif not resolve_name(ref.name):
                        ok = False
                if not ok:
                    return False
                sink: set[str] = set()
                try:
                    value = V.resolve(raw, scope.values, self.env, secrets=sink, pointer=where)
                except V.VariableError as exc:
                    report(layer, name, exc.pointer, exc.message)
                    return False
                if sink or any(r.source == "var" and r.name in scope.secret_names for _, r in refs):
                    scope.secret_names.add(name)
                self.secret_values |= sink
                scope.values[name] = value
                return True
            finally:
                resolving.pop()

        for name in winner:
            resolve_name(name)
        for name in scope.secret_names:
            text = V.format_value(scope.values[name]) if name in scope.values else ""
            if text:
                self.secret_values.add(text)
        return scope

    def check_refs(
        self, doc: YamlDocument, value: Any, pointer: str, known: Mapping[str, Any]
    ) -> None:
        for problem in V.check(value, known, self.env, pointer):
            self.at(doc, problem.pointer, problem.message)
        try:
            for _, ref in V.find_references(value):
                if ref.secret and ref.name in self.env and self.env[ref.name]:
                    self.secret_values.add(self.env[ref.name])
        except V.TemplateError:
            pass

    def static_value(
        self, doc: YamlDocument, value: Any, pointer: str, known: Mapping[str, Any]
    ) -> Any:
        """Resolve a value that must be known before the run (timeouts, include files)."""
        try:
            resolved = V.resolve(value, known, self.env, pointer=pointer)
        except V.VariableError as exc:
            self.at(doc, exc.pointer, exc.message)
            return None
        if resolved is V.UNKNOWN or isinstance(resolved, V.RowShape):
            self.at(doc, pointer, "must be known before the run (not from save: or for-each)")
            return None
        return resolved

    # -- files ---------------------------------------------------------------

    def load_file(
        self, path: Path, stack: list[Path], outer_known: Mapping[str, Any]
    ) -> _Loaded | None:
        try:
            doc = read_yaml_file(path, display=_display_name(path))
        except ScenarioError as exc:
            self.diagnostics.extend(exc.diagnostics)
            return None
        data = doc.data
        if data is None:
            self.diagnostics.append(
                Diagnostic(
                    doc.file, None, None, "", "file is empty (a scenario needs at least steps:)"
                )
            )
            return None
        if not isinstance(data, dict):
            self.at(doc, "", "a scenario must be a mapping with steps: (and name:, vars:, ...)")
            return None
        self.problems(doc, self.validator.validate_top(data))
        scope = self.static_vars(doc, data.get("vars"))
        known: dict[str, Any] = {**outer_known, **scope.values}
        raw_steps = data.get("steps")
        steps = self.steps(
            doc, path, raw_steps if isinstance(raw_steps, list) else [], "/steps", known, stack
        )
        saved = {name for name, value in known.items() if value is V.UNKNOWN}
        return _Loaded(doc, data, scope, steps, saved)

    def steps(
        self,
        doc: YamlDocument,
        path: Path,
        raw_steps: list[Any],
        pointer: str,
        known: dict[str, Any],
        stack: list[Path],
    ) -> tuple[Step, ...]:
        out: list[Step] = []
        for index, raw in enumerate(raw_steps):
            step = self.step(doc, path, raw, f"{pointer}/{index}", index + 1, known, stack)
            if step is not None:
                out.append(step)
        return tuple(out)

    def step(
        self,
        doc: YamlDocument,
        path: Path,
        raw: Any,
        pointer: str,
        index: int,
        known: dict[str, Any],
        stack: list[Path],
    ) -> Step | None:
        validator = self.validator
        kind, problems = validator.step_kind(raw, pointer)
        self.problems(doc, problems)
        if not isinstance(raw, Mapping):
            return None
        self.problems(doc, validator.validate_common(raw, pointer))
        if kind is None:
            return None
        step_type = validator.registry.get(kind)
        assert step_type is not None
        body = raw[kind]
        body_ptr = f"{pointer}/{escape_pointer_token(kind)}"
        body_problems = validator.validate_body(kind, body, body_ptr)
        self.problems(doc, body_problems)

        if isinstance(body, Mapping):
            params: dict[str, Any] = dict(body)
            prefix = ""
        elif body is None:
            params = {}
            prefix = ""
        else:
            key = step_type.shorthand or "_"
            params = {key: body}
            prefix = "/" + escape_pointer_token(key)
        nested_raw: Any = None
        if step_type.nested:
            nested_raw = params.pop(step_type.nested, None)

        mark = doc.locate(pointer)
        location = Location(doc.file, mark.line if mark else 1, mark.column if mark else 1)
        marks = {
            prefix + p[len(body_ptr) :]: Location(doc.file, m.line, m.column)
            for p, m in self.marks_under(doc, body_ptr)
        }

        timeout: float | None = None
        if "timeout" in raw:
            value = self.static_value(doc, raw["timeout"], f"{pointer}/timeout", known)
            if value is not None:
                try:
                    timeout = parse_duration(value)
                except DurationError as exc:
                    self.at(doc, f"{pointer}/timeout", str(exc))
        name = raw.get("name")
        if name is not None:
            scope: Mapping[str, Any] = known
            if kind == "for-each" or kind in ROW_TEMPLATE_STEPS:
                # the name may describe each pass or item by its row: "check ${row.tag}"
                as_name = str(params.get("as", "row"))
                scope = {**known, as_name: V.RowShape(None)}
            self.check_refs(doc, name, f"{pointer}/name", scope)

        nested: tuple[Step, ...] = ()
        source: Path | None = None
        bound: Mapping[str, Any] = MappingProxyType({})
        if body_problems:
            pass  # variables are checked in well-formed bodies only, to avoid echo errors
        elif kind == "for-each":
            nested, source = self.for_each(doc, path, params, body_ptr, nested_raw, known, stack)
        elif kind == "include":
            nested, source, bound = self.include(doc, path, params, body_ptr, known, stack)
        elif kind in ROW_TEMPLATE_STEPS:
            source = self.check_items(doc, path, params, body_ptr, known)
        else:
            self.check_refs(doc, body if prefix else params, body_ptr, known)
        if kind == "authenticate":
            env_name = params.get("password-env")
            if isinstance(env_name, str) and self.env.get(env_name):
                self.secret_values.add(self.env[env_name])
        save = params.get("save")
        if isinstance(save, str) and not body_problems:
            known[save] = V.UNKNOWN
        return Step(
            kind=kind,
            index=index,
            params=MappingProxyType(params),
            location=location,
            name=name if isinstance(name, str) else None,
            timeout=timeout,
            steps=nested,
            marks=MappingProxyType(marks),
            source=source,
            bound_vars=bound,
        )

    def for_each(
        self,
        doc: YamlDocument,
        path: Path,
        params: dict[str, Any],
        body_ptr: str,
        nested_raw: Any,
        known: dict[str, Any],
        stack: list[Path],
    ) -> tuple[tuple[Step, ...], Path | None]:
        as_name = params.get("as", "row")
        shape, source = self.rows(doc, path, params, body_ptr, known)
        inner = dict(known)
        inner[as_name] = shape
        steps = self.steps(
            doc,
            path,
            nested_raw if isinstance(nested_raw, list) else [],
            f"{body_ptr}/steps",
            inner,
            stack,
        )
        for name, value in inner.items():
            if name != as_name and (name not in known or known[name] is not value):
                known[name] = V.UNKNOWN
        return steps, source

    def check_items(
        self,
        doc: YamlDocument,
        path: Path,
        params: dict[str, Any],
        body_ptr: str,
        known: dict[str, Any],
    ) -> Path | None:
        """``check-items``: rows as for ``for-each``; its per-row keys may use the row."""
        as_name = params.get("as", "row")
        shape, source = self.rows(doc, path, params, body_ptr, known)
        inner = {**known, str(as_name): shape}
        for key in ROW_TEMPLATE_KEYS:
            if key in params:
                self.check_refs(doc, params[key], f"{body_ptr}/{key}", inner)
        if "within" in params:
            self.check_refs(doc, params["within"], f"{body_ptr}/within", known)
        return source

    def rows(
        self,
        doc: YamlDocument,
        path: Path,
        params: dict[str, Any],
        body_ptr: str,
        known: dict[str, Any],
    ) -> tuple[V.RowShape, Path | None]:
        """The rows of ``items:`` or ``csv:`` (read into ``items``) and their shape."""
        source: Path | None = None
        shape: V.RowShape
        if "csv" in params:
            csv_text = self.static_value(doc, params["csv"], f"{body_ptr}/csv", known)
            read: list[Any] | None
            if isinstance(csv_text, str):
                source = (path.parent / csv_text).resolve()
                read = self.read_csv(doc, source, csv_text, f"{body_ptr}/csv")
            else:
                read = None
            rows = read or []
            params["items"] = rows  # the rows replace csv: (the file is in Step.source)
            del params["csv"]
            for problem in V.check(rows, known, self.env):
                self.at(doc, f"{body_ptr}/csv", f"CSV file {csv_text!r}: {problem.message}")
            # An unreadable CSV has no known columns: no second error per ${row.column}.
            shape = _shape_of(rows) if read is not None else V.RowShape(None)
        else:
            items = params.get("items")
            self.check_refs(doc, items, f"{body_ptr}/items", known)
            if isinstance(items, str):
                ref = V.single_reference(items)
                value = (
                    known.get(ref.name) if ref and ref.source == "var" and not ref.path else None
                )
                if isinstance(value, list):
                    shape = _shape_of(value)
                elif value is not None and not (
                    value is V.UNKNOWN or isinstance(value, V.RowShape)
                ):
                    self.at(doc, f"{body_ptr}/items", f"{items} must be a list")
                    shape = V.RowShape(None)
                else:
                    shape = V.RowShape(None)
            else:
                shape = _shape_of(items if isinstance(items, list) else [])
        return shape, source

    def read_csv(
        self, doc: YamlDocument, source: Path, written: str, pointer: str
    ) -> list[Any] | None:
        """The rows of a CSV file as mappings by column; None (and located errors) if unusable."""
        try:
            text = read_text(source, display=_display_name(source))
        except ScenarioError as exc:
            for d in exc.diagnostics:
                where = f" line {d.line}" if d.line else ""
                self.at(doc, pointer, f"CSV file {written!r}{where}: {d.message}")
            return None
        try:
            return parse_rows(text, written)
        except CsvProblem as exc:
            self.at(doc, pointer, str(exc))
            return None

    def include(
        self,
        doc: YamlDocument,
        path: Path,
        params: dict[str, Any],
        body_ptr: str,
        known: dict[str, Any],
        stack: list[Path],
    ) -> tuple[tuple[Step, ...], Path | None, Mapping[str, Any]]:
        empty: Mapping[str, Any] = MappingProxyType({})
        file_value = self.static_value(doc, params.get("file"), f"{body_ptr}/file", known)
        include_vars = params.get("vars") or {}
        self.check_refs(doc, include_vars, f"{body_ptr}/vars", known)
        if not isinstance(file_value, str):
            return (), None, empty
        target = (path.parent / file_value).resolve()
        if target in stack:
            chain = " → ".join(_display_name(p) for p in [*stack[stack.index(target) :], target])
            self.at(doc, f"{body_ptr}/file", f"include cycle: {chain}")
            return (), target, empty
        if len(stack) > MAX_INCLUDE_DEPTH:
            self.at(doc, f"{body_ptr}/file", f"includes nested deeper than {MAX_INCLUDE_DEPTH}")
            return (), target, empty
        overrides: dict[str, Any] = {}
        if isinstance(include_vars, dict):
            overrides = {k: V.UNKNOWN if _has_refs(v) else v for k, v in include_vars.items()}
        before = len(self.diagnostics)
        loaded = self.load_file(target, [*stack, target], {**known, **overrides})
        if loaded is None:
            if len(self.diagnostics) == before:
                self.at(doc, f"{body_ptr}/file", f"cannot include {file_value!r}")
            else:
                self.at(
                    doc, f"{body_ptr}/file", f"included file {file_value!r} is invalid (see above)"
                )
            return (), target, empty
        unused = sorted(set(overrides) - _variables_used(loaded))
        if unused:
            declared = ", ".join(sorted(map(str, loaded.scope.values))) or "none"
            self.at(
                doc,
                f"{body_ptr}/vars/{unused[0]}",
                f"include vars: {', '.join(map(repr, unused))} not used by {file_value!r} "
                f"(its vars: {declared})",
            )
        for name in loaded.saved - set(overrides):
            known[name] = V.UNKNOWN  # a save: inside the include is visible after it
        return loaded.steps, target, MappingProxyType(dict(loaded.scope.values))


def _variables_used(loaded: _Loaded) -> set[str]:
    """Names a loaded file declares or refers to, its own includes' steps included (a
    variable given to an include may be meant for the file that one includes)."""
    names = {str(name) for name in loaded.scope.values}
    values: list[Any] = [loaded.data]
    pending = list(loaded.steps)
    while pending:
        step = pending.pop()
        values.append(dict(step.params))
        pending.extend(step.steps)
    for value in values:
        try:
            names.update(ref.name for _, ref in V.find_references(value) if ref.source == "var")
        except V.TemplateError:
            continue  # reported where the template is
    return names


def _has_refs(value: Any) -> bool:
    try:
        return any(True for _ in V.find_references(value))
    except V.TemplateError:
        return True


def _shape_of(rows: Sequence[Any]) -> V.RowShape:
    if rows and all(isinstance(r, Mapping) for r in rows):
        common = set(rows[0])
        for r in rows[1:]:
            common &= set(r)
        return V.RowShape(frozenset(str(c) for c in common))
    if all(not isinstance(r, Mapping) for r in rows):
        return V.RowShape(frozenset())
    return V.RowShape(None)


def _display_name(path: Path) -> str:
    """A path as shown in messages: relative to the working directory when under it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative


def check_scenario(
    path: Path | str,
    *,
    registry: StepRegistry | None = None,
    cli_vars: Mapping[str, Any] | None = None,
    vars_files: Sequence[Path | str] = (),
    env: Mapping[str, str] | None = None,
) -> tuple[Scenario | None, list[Diagnostic]]:
    """Load and check a scenario; return it (None if invalid) and every diagnostic found."""
    path = Path(path)
    run = _Run(
        validator=get_validator(registry),
        env=dict(os.environ) if env is None else env,
        cli=dict(cli_vars or {}),
        vars_docs=[],
    )
    for vf in vars_files:
        try:
            run.vars_docs.append(load_vars_file(Path(vf)))
        except ScenarioError as exc:
            run.diagnostics.extend(exc.diagnostics)
    resolved = path.resolve()
    loaded = run.load_file(resolved, [resolved], {})
    if loaded is None or run.diagnostics:
        return None, _in_file_order(run.diagnostics)
    doc, data, scope, steps = loaded.doc, loaded.data, loaded.scope, loaded.steps
    static = dict(scope.values)
    timeouts = _timeouts(run, doc, data.get("timeouts") or {}, static)
    texts: dict[str, Any] = {}
    for key in ("name", "description", "metadata"):
        if key in data:
            run.check_refs(doc, data[key], f"/{key}", static)
            texts[key] = run.static_value(doc, data[key], f"/{key}", static)
    if run.diagnostics:
        return None, _in_file_order(run.diagnostics)
    scenario = Scenario(
        path=path,
        name=str(
            texts.get("name")
            or path.name.removesuffix(".yaml").removesuffix(".yml").removesuffix(".mxgw")
        ),
        description=str(texts.get("description") or ""),
        version=int(data.get("version", 1)),
        tags=tuple(str(t) for t in data.get("tags") or ()),
        metadata=MappingProxyType(dict(texts.get("metadata") or {})),
        steps=steps,
        vars=MappingProxyType(static),
        secret_vars=frozenset(scope.secret_names),
        secret_values=frozenset(run.secret_values),
        timeouts=timeouts,
    )
    return scenario, []


def _in_file_order(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics grouped by file (first mention first), then by line and column."""
    files: dict[str, int] = {}
    for d in diagnostics:
        files.setdefault(d.file, len(files))
    return sorted(diagnostics, key=lambda d: (files[d.file], d.line or 0, d.column or 0))


def _timeouts(
    run: _Run, doc: YamlDocument, raw: Mapping[str, Any], known: Mapping[str, Any]
) -> Timeouts:
    values: dict[str, float] = {}
    for key in ("step", "scenario", "cleanup"):
        if key in raw:
            value = run.static_value(doc, raw[key], f"/timeouts/{key}", known)
            if value is None:
                continue
            try:
                values[key] = parse_duration(value)
            except DurationError as exc:
                run.at(doc, f"/timeouts/{key}", str(exc))
    return Timeouts(**values)


def load_scenario(
    path: Path | str,
    *,
    registry: StepRegistry | None = None,
    cli_vars: Mapping[str, Any] | None = None,
    vars_files: Sequence[Path | str] = (),
    env: Mapping[str, str] | None = None,
) -> Scenario:
    """Load a scenario or raise :class:`ScenarioError` with every problem found."""
    scenario, diagnostics = check_scenario(
        path, registry=registry, cli_vars=cli_vars, vars_files=vars_files, env=env
    )
    if scenario is None:
        raise ScenarioError(
            diagnostics or [Diagnostic(str(path), None, None, "", "invalid scenario")]
        )
    return scenario


def resolve_step_params(
    step: Step,
    variables: Mapping[str, Any],
    *,
    env: Mapping[str, str] | None = None,
    registry: StepRegistry | None = None,
    secrets: MutableSet[str] | None = None,
) -> dict[str, Any]:
    """The run-time half of variables: resolve a step's params and re-check them.

    Called by the engine just before a step runs, with every variable in force
    (static vars, ``save:`` results, the ``for-each`` row). The resolved body is
    validated again against the step's schema (a ``${row.speed}`` that turned out
    to be text where a number is needed is caught here), located at the step.
    ``secrets`` collects ``secret-env`` values used. Error messages never contain
    variable values.
    """
    env = dict(os.environ) if env is None else env
    try:
        resolved = V.resolve(dict(step.params), variables, env, secrets=secrets)
    except V.VariableError as exc:
        loc = step.location_of(exc.pointer)
        raise ScenarioError(
            [Diagnostic(loc.file, loc.line, loc.column, _step_path(step, exc.pointer), exc.message)]
        ) from None
    validator = get_validator(registry)
    step_type = validator.registry.get(step.kind)
    body: dict[str, Any] = dict(resolved)
    if step_type is not None and step_type.nested:
        body[step_type.nested] = []
    problems = validator.validate_body(step.kind, body, "")
    if problems:
        redactor = Redactor(secrets or ())
        diagnostics = []
        for p in problems:
            loc = step.location_of(p.pointer)
            message = redactor.text(p.message)
            if "${" not in message:
                message = f"after substituting variables: {message}"
            diagnostics.append(
                Diagnostic(loc.file, loc.line, loc.column, _step_path(step, p.pointer), message)
            )
        raise ScenarioError(diagnostics)
    return resolved  # type: ignore[no-any-return]


def _step_path(step: Step, pointer: str) -> str:
    inner = display_path(pointer)
    return f"step {step.index} {step.kind}" + (
        f".{inner}" if inner and not inner.startswith("[") else inner
    )
