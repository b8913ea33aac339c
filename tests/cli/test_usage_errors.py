"""User mistakes: a clear one-line error (or JSON error object) and exit 2, never a traceback,
and no connection attempt (the endpoint below does not exist)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from cli_helpers import run_cli

NOWHERE = ["--endpoint", "127.0.0.1:9", "--connect-timeout", "0.2"]
WRITE = ["write", *NOWHERE, "--session-id", "s", "--server-handle", "1", "--item-handle", "1"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ([*WRITE, "--type", "int33", "--value", "1"], "unknown type name 'int33'"),
        ([*WRITE, "--type", "int32", "--value", "abc"], "cannot convert 'abc' to int32"),
        ([*WRITE, "--type", "int32", "--value", "99999999999"], "outside the 32-bit range"),
        ([*WRITE, "--type", "double", "--value", "nan"], "NaN"),
        ([*WRITE, "--type", "int32[]", "--value", "[1,"], "not a JSON array"),
        ([*WRITE, "--type", "time", "--value", "yesterday"], "ISO 8601"),
        ([*WRITE, "--type", "int32", "--value", "1", "--timestamp", "soon"], "ISO 8601"),
        (["register", *NOWHERE], "--session-id is required"),
        (
            ["advise", *NOWHERE, "--session-id", "s", "--server-handle", "x", "--item-handle", "1"],
            "--server-handle: expected an integer",
        ),
        (
            ["write-bulk", *NOWHERE, "--session-id", "s", "--server-handle", "1", "--entry", "7"],
            "expected ITEM_HANDLE=VALUE",
        ),
        (["stream-events", *NOWHERE, "--session-id", "s", "--timeout", "-1"], "greater than 0"),
        (["open-session", *NOWHERE, "--api-key", "k", "--api-key-env", "K"], "cannot be used"),
        (["open-session", "--bogus"], "unrecognized arguments: --bogus"),
        (["no-such-command"], "invalid choice: 'no-such-command'"),
        ([], "the following arguments are required"),
    ],
)
def test_usage_errors_are_one_clear_line(args: list[str], fragment: str) -> None:
    run = run_cli(*args).expect(2)
    assert run.stdout == ""
    assert fragment in run.stderr, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr


def test_usage_error_with_json_is_a_json_error_object() -> None:
    run = run_cli(*WRITE, "--type", "bool", "--value", "maybe", "--json").expect(2)
    error = run.doc["error"]
    assert (error["type"], error["code"], error["exit_code"]) == (
        "ValueConversionError",
        "INVALID_VALUE",
        2,
    )
    assert run.stderr == ""


def test_console_script_is_installed() -> None:
    script = shutil.which("mxgw-py", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the mxgw-py console script is not installed in this environment")
    run = run_cli("version", "--json", executable=[script]).expect(0)
    assert run.doc["command"] == "version"
    assert run.doc["protocol_version"] == 3
