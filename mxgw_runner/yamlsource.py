"""Reading YAML safely while keeping the line and column of every node.

Uses a :class:`yaml.SafeLoader` subclass that

* keeps a mark for every mapping, sequence and scalar (by JSON pointer), and
  for every mapping key, so later errors can point at the user's text;
* rejects duplicate keys, non-scalar keys and tags beyond the plain JSON types;
* bounds nesting depth, alias uses and the expanded size (no "billion laughs");
* follows YAML 1.2 for plain scalars: only ``true``/``false`` are booleans
  (``yes``, ``on``, ``no`` stay strings), ``1:30`` is a string, not 90, and
  dates stay strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mxgw_runner.errors import Diagnostic, ScenarioError

#: Largest scenario (or vars/CSV) file read, in bytes.
MAX_FILE_BYTES = 5 * 1024 * 1024
#: Deepest nesting of mappings and sequences.
MAX_DEPTH = 64
#: Most alias (``*name``) uses in one document.
MAX_ALIASES = 50
#: Most nodes in one document, counted as composed and again after expanding aliases.
#: Loading costs some microseconds per node, so this bounds the time a hostile file
#: (a 5 MiB flat list, an alias fan-out) can take to about a second; real scenarios
#: use a few nodes per step.
MAX_NODES = 100_000

_INT = "tag:yaml.org,2002:int"
_ALLOWED_TAGS = frozenset(
    "tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "seq", "map")
)


@dataclass(frozen=True, slots=True)
class Mark:
    """A 1-based line and column."""

    line: int
    column: int


@dataclass(slots=True)
class YamlDocument:
    """Plain Python data from a YAML file with the location of each node.

    ``marks`` maps a JSON pointer (``/steps/3/write/value``) to where the value
    starts; ``key_marks`` maps the pointer of a mapping entry to where its key is.
    """

    file: str
    data: Any
    marks: dict[str, Mark] = field(default_factory=dict)
    key_marks: dict[str, Mark] = field(default_factory=dict)

    def locate(self, pointer: str, *, key: bool = False) -> Mark | None:
        """Mark of ``pointer`` (its key if ``key``), else of its nearest located parent."""
        if key and pointer in self.key_marks:
            return self.key_marks[pointer]
        while True:
            mark = self.marks.get(pointer)
            if mark is not None:
                return mark
            if not pointer:
                return None
            pointer = pointer.rsplit("/", 1)[0]


def escape_pointer_token(token: str | int) -> str:
    """Escape one JSON pointer token (RFC 6901)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer_of(path: Any) -> str:
    """JSON pointer of a sequence of keys/indexes."""
    return "".join("/" + escape_pointer_token(p) for p in path)


class _LimitError(yaml.MarkedYAMLError):
    """A safety limit was exceeded while composing."""


class _Resolver(yaml.resolver.Resolver):
    """YAML 1.2-style plain scalar resolution (see :func:`_install_resolvers`)."""


class _Limits(yaml.composer.Composer):
    """Composer with bounded depth and alias uses; works over either event source."""

    _depth = 0
    _aliases = 0
    _nodes = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        events: Any = self  # the parser half of the loader (Python or libyaml)
        if events.check_event(AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = events.peek_event().start_mark
                raise _LimitError(
                    None, None, f"more than {MAX_ALIASES} aliases (*name) in one file", mark
                )
            return super().compose_node(parent, index)
        self._nodes += 1
        if self._nodes > MAX_NODES:
            mark = events.peek_event().start_mark
            raise _LimitError(None, None, f"document has more than {MAX_NODES} nodes", mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = events.peek_event().start_mark
                raise _LimitError(None, None, f"nesting deeper than {MAX_DEPTH} levels", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _PyLoader(
    _Limits,
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.constructor.SafeConstructor,
    _Resolver,
):
    """Pure-Python events (used where libyaml is missing)."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        _Resolver.__init__(self)


_CParser: Any = getattr(getattr(yaml, "cyaml", None), "CParser", None)
_Loader: Any = _PyLoader
if _CParser is not None:

    class _CLoader(_Limits, _CParser, yaml.constructor.SafeConstructor, _Resolver):  # type: ignore[misc]
        """libyaml scans and parses (fast, not recursive); composing stays in Python, bounded."""

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            _Resolver.__init__(self)

    _Loader = _CLoader


def _install_resolvers() -> None:
    """YAML 1.2 core schema resolvers for plain scalars (the null resolver is PyYAML's)."""
    _Resolver.yaml_implicit_resolvers = {}
    _Resolver.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"),
    )
    _Resolver.add_implicit_resolver(
        "tag:yaml.org,2002:int",
        re.compile(r"^(?:[-+]?[0-9]+|0x[0-9a-fA-F]+)$"),
        list("-+0123456789"),
    )
    _Resolver.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        list("-+0123456789."),
    )
    _Resolver.add_implicit_resolver(
        "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
    )


_install_resolvers()


class _Converter:
    """Turns a composed node graph into plain data, recording marks and checking keys."""

    def __init__(self, loader: _Loader, doc: YamlDocument) -> None:
        self.loader = loader
        self.doc = doc
        self.nodes = 0
        self.errors: list[Diagnostic] = []

    def error(self, mark: yaml.Mark, pointer: str, message: str) -> None:
        self.errors.append(
            Diagnostic(self.doc.file, mark.line + 1, mark.column + 1, _display(pointer), message)
        )

    def convert(self, node: Node, pointer: str, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _LimitError(
                None, None, f"document expands to more than {MAX_NODES} nodes", node.start_mark
            )
        if depth > MAX_DEPTH:
            raise _LimitError(
                None, None, f"nesting deeper than {MAX_DEPTH} levels", node.start_mark
            )
        self.doc.marks[pointer] = Mark(node.start_mark.line + 1, node.start_mark.column + 1)
        if node.tag not in _ALLOWED_TAGS:
            self.error(node.start_mark, pointer, f"YAML tag {node.tag!r} is not allowed here")
            return None
        if isinstance(node, ScalarNode):
            if node.tag == _INT:
                text = node.value.replace("_", "")
                try:
                    return int(text, 16) if text.startswith("0x") else int(text, 10)
                except ValueError:
                    self.error(node.start_mark, pointer, f"invalid integer {node.value!r}")
                    return None
            try:
                return self.loader.construct_object(node)
            except (yaml.YAMLError, ValueError) as exc:
                self.error(
                    node.start_mark, pointer, f"invalid {node.tag.rsplit(':', 1)[-1]}: {exc}"
                )
                return None
        if isinstance(node, SequenceNode):
            return [
                self.convert(child, f"{pointer}/{i}", depth + 1)
                for i, child in enumerate(node.value)
            ]
        if isinstance(node, MappingNode):
            return self._mapping(node, pointer, depth)
        raise AssertionError(f"unexpected node {node!r}")  # pragma: no cover

    def _mapping(self, node: MappingNode, pointer: str, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_seen: dict[str, yaml.Mark] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.error(
                    key_node.start_mark,
                    pointer,
                    "a key must be a plain name, not a list or mapping",
                )
                continue
            if key_node.value == "<<" and key_node.style not in ("'", '"'):
                self.error(key_node.start_mark, pointer, "merge keys (<<) are not supported")
                continue
            key = str(key_node.value)
            child = f"{pointer}/{escape_pointer_token(key)}"
            if key in first_seen:
                self.error(
                    key_node.start_mark,
                    child,
                    f"duplicate key {key!r} (first defined at line {first_seen[key].line + 1})",
                )
                continue
            first_seen[key] = key_node.start_mark
            self.doc.key_marks[child] = Mark(
                key_node.start_mark.line + 1, key_node.start_mark.column + 1
            )
            out[key] = self.convert(value_node, child, depth + 1)
        return out


def _display(pointer: str) -> str:
    """A JSON pointer as users read it: ``steps[3].write.value``."""
    out = ""
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if token.isdigit():
            out += f"[{token}]"
        else:
            out += ("." if out else "") + token
    return out


display_path = _display


_FLOW_VAR_HINT = '; inside { } or [ ] a ${variable} must be quoted, as in value: "${setpoint}"'


def _yaml_error_diagnostic(file: str, exc: yaml.YAMLError, text: str = "") -> Diagnostic:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        message = exc.problem or "invalid YAML"
        if exc.context:
            message = f"{message} ({exc.context}"
            if exc.context_mark is not None and exc.context_mark.line != mark.line:
                message += f" at line {exc.context_mark.line + 1}"
            message += ")"
        lines = text.splitlines()
        at_tab = mark.line < len(lines) and "\t" in lines[mark.line][: mark.column + 1]
        if at_tab or "'\\t'" in message or "tab character" in message:
            message += "; indent with spaces, not tabs"
        if "flow" in (exc.context or "") and mark.line < len(lines):
            source = lines[mark.line]
            if "${" in source[max(0, mark.column - 2) : mark.column + 1]:
                message += _FLOW_VAR_HINT
        return Diagnostic(file, mark.line + 1, mark.column + 1, "", message)
    if isinstance(exc, yaml.reader.ReaderError):
        position = min(max(exc.position, 0), len(text))
        line_no = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        return Diagnostic(
            file, line_no, column, "", f"character {exc.character:#06x} is not allowed in YAML"
        )
    return Diagnostic(file, None, None, "", f"invalid YAML: {exc}")


# An unquoted ``${...}`` that is a whole value inside ``{ }`` or ``[ ]``, as users write
# ``write: {item: sp, value: ${setpoint}}``. Plain YAML reads its braces as a flow mapping.
_FLOW_VARIABLE = re.compile(r"(?<=[:,\[{]) (\s*)(\$\{[^{}\n\"']*\})(?=\s*[,}\]])")


def _quote_flow_variables(text: str) -> str:
    """Quote every unquoted whole-value ``${...}`` in flow collections.

    Only used when the text as written does not parse, so valid YAML is never rewritten.
    The quote lands where the variable started, so its line and column stay the same.
    """
    return _FLOW_VARIABLE.sub(lambda m: f' {m.group(1)}"{m.group(2)}"', text)


def parse_yaml(text: str, file: str) -> YamlDocument:
    """Parse one YAML document into plain data with marks; raise :class:`ScenarioError`.

    An empty document gives ``data=None``; callers decide whether that is allowed.
    SCENARIOS.md writes variables unquoted inside flow mappings (``{value: ${sp}}``), which
    plain YAML rejects; such a file is read again with those variables quoted.
    """
    try:
        return _parse_yaml(text, file)
    except ScenarioError as first:
        rewritten = _quote_flow_variables(text)
        if rewritten == text:
            raise
        try:
            return _parse_yaml(rewritten, file)
        except ScenarioError:
            raise first from None


def _parse_yaml(text: str, file: str) -> YamlDocument:
    doc = YamlDocument(file=file, data=None)
    try:
        loader = _Loader(text)
    except yaml.YAMLError as exc:
        raise ScenarioError([_yaml_error_diagnostic(file, exc, text)]) from None
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise ScenarioError.single(file, f"nesting deeper than {MAX_DEPTH} levels") from None
        if node is None:
            return doc
        converter = _Converter(loader, doc)
        try:
            doc.data = converter.convert(node, "", 0)
        except RecursionError:
            raise ScenarioError.single(file, f"nesting deeper than {MAX_DEPTH} levels") from None
        if converter.errors:
            raise ScenarioError(converter.errors)
        return doc
    except yaml.YAMLError as exc:
        raise ScenarioError([_yaml_error_diagnostic(file, exc, text)]) from None
    finally:
        loader.dispose()


def read_text(path: Path, *, display: str | None = None) -> str:
    """Read a UTF-8 text file within :data:`MAX_FILE_BYTES`; file-level errors as ScenarioError."""
    name = display or str(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError.single(name, "file not found") from None
    except IsADirectoryError:
        raise ScenarioError.single(name, "is a directory, not a file") from None
    except PermissionError:
        raise ScenarioError.single(name, "permission denied") from None
    except OSError as exc:
        raise ScenarioError.single(name, f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError.single(
            name, f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ScenarioError.single(
            name,
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8",
            line=line,
            column=column,
        ) from None


def read_yaml_file(path: Path, *, display: str | None = None) -> YamlDocument:
    """Read and parse a YAML file (size, encoding and syntax errors as ScenarioError)."""
    name = display or str(path)
    return parse_yaml(read_text(path, display=name), name)
