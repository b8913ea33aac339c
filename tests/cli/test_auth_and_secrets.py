"""API keys: wrong or missing keys, scopes, and the key never reaching stdout or stderr."""

from __future__ import annotations

import socket

from cli_helpers import API_KEY, KEY_ENV, READ_KEY, CliRun, Gateway, run_cli


def _no_key(run: CliRun, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in run.stdout, run.stdout
        assert secret not in run.stderr, run.stderr


def test_wrong_key_is_exit_4_with_a_clear_message(gateway: Gateway) -> None:
    wrong = "mxgw_wrong_NotTheRightKey0000"
    run = gateway.run("open-session", "--json", env={KEY_ENV: wrong})
    error = run.expect(4).doc["error"]
    assert (error["code"], error["type"]) == ("UNAUTHENTICATED", "AuthenticationError")
    assert "authentication failed" in error["message"]
    _no_key(run, wrong)
    human = gateway.run("open-session", env={KEY_ENV: wrong}).expect(4)
    assert human.stdout == ""
    assert human.stderr.startswith("mxgw-py open-session: error: UNAUTHENTICATED")
    _no_key(human, wrong)


def test_missing_key_is_exit_4(gateway: Gateway) -> None:
    run = run_cli("open-session", "--endpoint", gateway.endpoint, "--json")
    error = run.expect(4).doc["error"]
    assert "missing bearer token" in error["message"]


def test_missing_scope_is_exit_4(gateway: Gateway, session: str) -> None:
    s = ["--session-id", session]
    sh = str(gateway.ok("register", *s)["server_handle"])
    ih = str(
        gateway.ok("add-item", *s, "--server-handle", sh, "--item", "Types.Int")["item_handle"]
    )
    run = gateway.run(
        "write",
        *s,
        "--server-handle",
        sh,
        "--item-handle",
        ih,
        "--value",
        "1",
        "--json",
        env={KEY_ENV: READ_KEY},
    )
    error = run.expect(4).doc["error"]
    assert (error["code"], error["type"]) == ("PERMISSION_DENIED", "PermissionDeniedError")
    assert "scope" in error["message"]
    _no_key(run, READ_KEY)


def test_missing_key_variable_is_a_usage_error(gateway: Gateway) -> None:
    run = run_cli("open-session", "--endpoint", gateway.endpoint, "--api-key-env", "NOT_SET_X")
    assert "NOT_SET_X is not set" in run.expect(2).stderr


def test_key_given_on_the_command_line_never_appears(gateway: Gateway) -> None:
    """Success and failure paths, with the key in argv where a careless error could echo it."""
    key = ["--api-key", API_KEY]
    target = ["--endpoint", gateway.endpoint]
    opened = run_cli("open-session", *target, *key, "--json", "--raw").expect(0)
    _no_key(opened, API_KEY)
    sid = opened.doc["session_id"]
    s = ["--session-id", sid]
    runs = [
        run_cli("register", *target, *key, *s, "--json", "--raw").expect(0),
        run_cli("register", *target, *key, *s).expect(0),
        run_cli("drain-events", *target, *key, *s, "--json", "--raw").expect(0),
        # failures: MXAccess refusal, bad value, unknown option, unreachable, closed session
        run_cli("advise", *target, *key, *s, "--server-handle", "1", "--item-handle", "77").expect(
            5
        ),
        run_cli(
            "write",
            *target,
            *key,
            *s,
            "--server-handle",
            "1",
            "--item-handle",
            "1",
            "--type",
            "int32",
            "--value",
            API_KEY,
        ).expect(2),
        run_cli("register", *target, *key, *s, "--bogus", API_KEY, "--json").expect(2),
        run_cli(f"--api-key={API_KEY}", "register").expect(2),
        run_cli(
            "open-session",
            "--endpoint",
            f"127.0.0.1:{_free_port()}",
            "--connect-timeout",
            "0.5",
            *key,
        ).expect(3),
        run_cli("close-session", *target, *key, *s, "--json").expect(0),
        run_cli("register", *target, *key, *s, "--json").expect(6),
        # a key given as the wrong key's value: the server's rejection does not echo it
        run_cli("open-session", *target, "--api-key", API_KEY + "x").expect(4),
    ]
    for run in runs:
        _no_key(run, API_KEY)
    assert "<redacted>" in runs[4].stderr  # the value was the key: scrubbed, not printed


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
