"""Hostile input: every malformed, huge or malicious file gets a located error within
bounded time and memory, never a traceback; the simulator and the client refuse oversized
messages and malformed values with clear errors."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mxgw_runner import variables as V
from mxgw_runner.loader import MAX_CSV_ROWS, check_scenario
from mxgw_runner.yamlsource import MAX_ALIASES, MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES

from .hostile import (
    EXEC_TIME_LIMIT,
    MEMORY_LIMIT,
    TIME_LIMIT,
    billion_laughs,
    bounded,
    deep_block,
    validate,
    wide_expansion,
)

# --- whole files through the real executable ---------------------------------------------


def _files() -> list[Any]:
    rng = random.Random(7)
    return [
        pytest.param(
            billion_laughs().encode(), f"more than {MAX_ALIASES} aliases", id="alias-bomb"
        ),
        pytest.param(
            wide_expansion().encode(), f"more than {MAX_NODES} nodes", id="wide-expansion"
        ),
        pytest.param(
            b"steps: []\nvars: {a: [" + b"1," * 2_000_000 + b"1]}\n",
            f"more than {MAX_NODES} nodes",
            id="flat-list",
        ),
        pytest.param(deep_block(200).encode(), f"deeper than {MAX_DEPTH}", id="deep-block"),
        pytest.param(b"steps: " + b"[" * 200_000, "nesting depth", id="deep-flow"),
        pytest.param(
            b"steps: " + b"{a: " * 100_000, f"deeper than {MAX_DEPTH}", id="deep-flow-mapping"
        ),
        pytest.param(
            b"# padding\n" * (MAX_FILE_BYTES // 10 + 1), "larger than 5 MiB", id="huge-file"
        ),
        pytest.param(rng.randbytes(65536), "not UTF-8", id="binary-garbage"),
        pytest.param(
            b"name: caf\xe9\nsteps: []\n", "1:10: not UTF-8 text (byte 0xe9)", id="latin-1"
        ),
        pytest.param("name: x\nsteps: []\n".encode("utf-16"), "not UTF-8", id="utf-16"),
        pytest.param(b"name: a\x00b\nsteps: []\n", ":1:", id="nul-byte"),
        pytest.param(
            b"name: x\nsteps:\n  - !!python/object/apply:os.system [echo pwned]\n",
            ":3:",
            id="python-tag",
        ),
        pytest.param(
            b"name: x\nsteps: []\n" + b"name: again\n" * 3, "duplicate", id="duplicate-keys"
        ),
    ]


@pytest.mark.parametrize(("content", "expected"), _files())
def test_hostile_file_is_refused_clearly_in_bounded_time_and_memory(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_bytes(content)
    result = validate(path)

    assert result.code == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "MemoryError" not in result.stderr
    assert result.seconds < EXEC_TIME_LIMIT
    assert f"{path}:" in result.stderr or f"{path}" in result.stderr
    assert expected.lower() in result.stderr.lower(), result.stderr
    assert "nothing was run" in result.stderr
    # One line per problem, none of them a dump of the file.
    assert max(len(line) for line in result.stderr.splitlines()) < 500
    assert "pwned" not in result.stdout


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b"steps: " + b"[" * 200_000, "nesting depth", id="deep-flow"),
        pytest.param(
            b"steps: []\nvars: {a: [" + b"1," * 2_000_000 + b"1]}\n",
            f"more than {MAX_NODES} nodes",
            id="flat-list",
        ),
    ],
)
def test_hostile_file_in_a_scenario_directory_is_refused_the_same_way(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    (tmp_path / "hostile.yaml").write_bytes(content)
    result = validate(tmp_path, timeout=EXEC_TIME_LIMIT)
    assert result.code == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert expected in result.stderr
    assert result.seconds < EXEC_TIME_LIMIT


def test_hostile_vars_file_is_refused_the_same_way(tmp_path: Path) -> None:
    scenario = tmp_path / "ok.yaml"
    scenario.write_text("name: ok\nsteps: []\n", encoding="utf-8")
    bomb = tmp_path / "vars.yaml"
    bomb.write_text(billion_laughs().replace("steps: []\n", ""), encoding="utf-8")
    result = validate(scenario, "--vars-file", bomb)
    assert result.code == 2, result.stderr
    assert f"more than {MAX_ALIASES} aliases" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_big_valid_file_within_the_limit_loads_in_bounded_time(tmp_path: Path) -> None:
    # Just under the size limit: a long comment block and 2,000 real steps.
    steps = "".join(f"  - wait: {{for: {i % 7}ms}}\n" for i in range(2000))
    body = "name: big\nsteps:\n" + steps
    padding = b"# " + b"x" * 98 + b"\n"
    room = MAX_FILE_BYTES - len(body.encode()) - 1024
    path = tmp_path / "big.yaml"
    path.write_bytes(padding * (room // len(padding)) + body.encode())
    assert MAX_FILE_BYTES - 200_000 < path.stat().st_size <= MAX_FILE_BYTES
    result = validate(path)
    assert result.code == 0, result.stderr
    assert result.seconds < EXEC_TIME_LIMIT


# --- the loader in process, property based -----------------------------------------------

STEP_WORDS = [
    "name",
    "steps",
    "vars",
    "timeouts",
    "step",
    "cleanup",
    "scenario",
    "tags",
    "open-session",
    "close-session",
    "register",
    "add-item",
    "advise",
    "write",
    "expect-event",
    "expect-no-event",
    "read",
    "wait",
    "for-each",
    "include",
    "authenticate",
    "item",
    "value",
    "as",
    "within",
    "for",
    "restore",
    "data-change",
    "quality",
    "mode",
    "count",
    "save",
    "csv",
    "items",
    "file",
    "user",
    "password-env",
    "type",
    "tolerance",
    "since",
    "timeout",
    "expect",
    "status",
    "verifier",
    "timestamp",
]
TEMPLATES = st.sampled_from(
    [
        "${x}",
        "${env:HOME}",
        "${secret-env:NOPE}",
        "${env:NOPE:-7}",
        "$${x}",
        "${x.0.y}",
        "${",
        "${}",
        "${row.col}",
        "${ env:X }",
        "$$",
        "${secret-env:A:-${b}}",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    TEMPLATES,
    st.sampled_from(["10s", "0ms", "-1s", "1e9h", "good", "bad", "uncertain", "ok", "next"]),
)
KEYS = st.one_of(st.sampled_from(STEP_WORDS), st.text(min_size=1, max_size=8))
DOCUMENTS = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(KEYS, children, max_size=5)
    ),
    max_leaves=40,
)
SCENARIO_DOCUMENTS = st.fixed_dictionaries(
    {
        "name": st.text(max_size=10),
        "steps": st.lists(st.dictionaries(KEYS, DOCUMENTS, max_size=3), max_size=6),
    },
    optional={
        "vars": st.dictionaries(st.text(min_size=1, max_size=6), DOCUMENTS, max_size=4),
        "timeouts": st.dictionaries(KEYS, SCALARS, max_size=3),
    },
)


def _check_bounded(path: Path) -> list[Any]:
    (scenario, diagnostics), cost = bounded(lambda: check_scenario(path, env={}))
    assert cost.seconds < TIME_LIMIT
    assert cost.peak_bytes < MEMORY_LIMIT
    assert (scenario is None) == bool(diagnostics)
    for d in diagnostics:
        assert d.message
        assert d.file
        assert d.line is None or d.line >= 1
        assert "Traceback" not in d.format()
        assert "internal error" not in d.message
    return list(diagnostics)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SCENARIO_DOCUMENTS)
def test_property_structured_scenarios_never_traceback(
    tmp_path_factory: pytest.TempPathFactory, document: dict[str, Any]
) -> None:
    path: Path = tmp_path_factory.mktemp("doc") / "s.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    _check_bounded(path)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_property_any_unicode_text_never_tracebacks(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path: Path = tmp_path_factory.mktemp("text") / "s.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    _check_bounded(path)


# --- the variable resolver ------------------------------------------------------------------

TEMPLATE_TEXT = st.lists(st.sampled_from(list("${}:-.$ab0_ \\")) | TEMPLATES, max_size=12).map(
    "".join
)
NAMES = st.sampled_from(["a", "b", "x", "row", "HOME", "A", "NOPE"])
VALUES = st.recursive(
    st.one_of(st.integers(), st.text(max_size=8), st.booleans(), st.none()),
    lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(NAMES, c, max_size=3)),
    max_leaves=8,
)
SECRET = "s3cr3t-value-91"


@settings(max_examples=400, deadline=2000)
@given(
    st.one_of(TEMPLATE_TEXT, st.lists(TEMPLATE_TEXT, max_size=3)),
    st.dictionaries(NAMES, VALUES, max_size=4),
    st.dictionaries(NAMES, st.just(SECRET), max_size=3),
)
def test_property_resolver_returns_or_raises_a_variable_error_without_secrets(
    template: Any, variables: dict[str, Any], env: dict[str, str]
) -> None:
    secrets: set[str] = set()
    try:
        value = V.resolve(template, variables, env, secrets=secrets)
    except V.VariableError as exc:
        assert exc.message
        assert SECRET not in str(exc)
        assert SECRET not in repr(exc)
        return
    if isinstance(template, str) and "$" not in template:
        assert value == template
    if "secret-env" in str(template) and SECRET in str(value):
        assert SECRET in secrets


@settings(max_examples=300, deadline=1000)
@given(st.text(max_size=200))
def test_property_template_parser_is_total(text: str) -> None:
    try:
        pieces = V.parse_template(text)
    except V.VariableError as exc:
        assert exc.message
        return
    # Literal pieces are never lost: without references the text comes back whole.
    if all(isinstance(p, str) for p in pieces):
        assert "".join(p for p in pieces if isinstance(p, str)) == text.replace("$${", "${")


def test_long_template_resolves_in_linear_time() -> None:
    text = "${a}" * 50_000 + "$" * 50_000 + "${" * 10_000
    try:
        _, cost = bounded(lambda: V.resolve(text, {"a": 1}, {}))
    except V.VariableError:
        return
    assert cost.seconds < TIME_LIMIT


# --- CSV checklists (for-each) ---------------------------------------------------------------

FOR_EACH = """name: checklist
steps:
  - open-session: {}
  - register: {}
  - for-each:
      csv: points.csv
      as: p
      steps:
        - add-item: {item: "${p.tag}"}
"""


def _csv_case(tmp_path: Path, content: bytes) -> list[str]:
    (tmp_path / "points.csv").write_bytes(content)
    path = tmp_path / "checklist.yaml"
    path.write_text(FOR_EACH, encoding="utf-8")
    return [d.format() for d in _check_bounded(path)]


def test_csv_ragged_row_is_located(tmp_path: Path) -> None:
    errors = _csv_case(tmp_path, b"tag,setpoint\nPump101.SP,40\nPump102.SP,41,extra\n")
    assert len(errors) == 1
    assert "checklist.yaml:6:" in errors[0]
    assert "'points.csv' line 3: 3 cells for 2 columns" in errors[0]


def test_csv_bad_encoding_is_located_in_the_csv(tmp_path: Path) -> None:
    errors = _csv_case(tmp_path, b"tag,site\nPump101.SP,North\nPump102.SP,M\xfcnchen\n")
    assert len(errors) == 1
    assert "checklist.yaml:6:" in errors[0]
    assert "'points.csv'" in errors[0]
    assert "not UTF-8" in errors[0]
    assert "line 3" in errors[0], "the CSV line of the bad byte is named"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "needs a header row"),
        (b"tag,tag\nx,y\n", "repeats column(s) tag"),
        (b'tag\n"unterminated\n', ""),
        (b"tag\x00,b\n1,2\n", ""),
    ],
    ids=["empty", "repeated-column", "unterminated-quote", "nul"],
)
def test_csv_problems_are_located(tmp_path: Path, content: bytes, expected: str) -> None:
    errors = _csv_case(tmp_path, content)
    if expected:
        assert len(errors) == 1, errors
        assert "checklist.yaml:6:" in errors[0]
        assert expected in errors[0]


def test_csv_past_the_row_limit_is_refused_in_bounded_time(tmp_path: Path) -> None:
    (tmp_path / "points.csv").write_bytes(b"tag,sp\n" + b"Pump101.SP,40\n" * (MAX_CSV_ROWS + 1))
    path = tmp_path / "checklist.yaml"
    path.write_text(FOR_EACH, encoding="utf-8")
    result = validate(path)
    assert result.code == 2, result.stderr
    assert "checklist.yaml:6:" in result.stderr
    assert f"CSV file 'points.csv' has more than {MAX_CSV_ROWS} rows" in result.stderr
    assert result.seconds < EXEC_TIME_LIMIT


@settings(max_examples=100, deadline=None)
@given(
    st.binary(max_size=200)
    | st.text(alphabet=st.sampled_from(list(',"\n\r\x00ab\t')), max_size=80).map(str.encode)
)
def test_property_csv_never_tracebacks(
    tmp_path_factory: pytest.TempPathFactory, content: bytes
) -> None:
    _csv_case(tmp_path_factory.mktemp("csv"), b"tag\n" + content)


# --- the simulator's API keys file ----------------------------------------------------------

KEY_IN_FILE = "mxgw_keyfile_0f1e2d3c4b5a"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("deep.yaml", b"keys: " + b"[" * 200_000),
        ("deep.json", b'{"keys": ' + b"[" * 200_000),
        ("bomb.yaml", billion_laughs().replace("steps: []", "keys: []").encode()),
        ("huge.yaml", b"# padding\n" * 120_000),
        ("latin1.yaml", b"keys:\n  - {key: caf\xe9}\n"),
        ("broken.yaml", f"keys:\n  - {{key: {KEY_IN_FILE}, scopes: [admin\n".encode()),
        ("broken.json", f'{{"keys": [{{"key": "{KEY_IN_FILE}", }}]}}'.encode()),
    ],
)
def test_hostile_keys_file_stops_the_simulator_clearly(
    tmp_path: Path, name: str, content: bytes
) -> None:
    import subprocess
    import sys
    import time

    path = tmp_path / name
    path.write_bytes(content)
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mxgw_sim",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--api-key-file",
            str(path),
        ],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=30,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert time.monotonic() - started < EXEC_TIME_LIMIT
    assert "Traceback" not in done.stderr
    assert str(path) in done.stderr
    assert len(done.stderr.splitlines()) <= 2
    assert KEY_IN_FILE not in done.stderr  # a keys file's text is never shown
    assert done.stdout == ""  # never listened
