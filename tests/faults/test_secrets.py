"""Secrets — API keys, passwords, secret variables — never appear in console output, logs,
reports (JSON, JUnit, HTML), exception text or ``repr``; a key about to cross the network in
clear text gets a warning (checked without sending anything beyond this machine)."""

from __future__ import annotations

import logging
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import grpc
import pytest
from e2e.support import (
    KEY_ENV,
    MXGW_RUN,
    PASSWORDS,
    ROOT,
    env_with,
    run_cli,
    scenario_file,
    sim_args,
)

from mxgateway import (
    AuthenticationError,
    ClientOptions,
    GatewayClient,
    InvalidArgumentError,
    PlaintextKeyWarning,
)
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway.generated import mxaccess_gateway_pb2_grpc as pb_grpc
from mxgw_runner.redact import Redactor
from mxgw_sim.testing import ADMIN_KEY, USER_KEY, SimProcess, start_sim

from .harness import (
    SECRET_ENV,
    SECRET_TOKEN,
    SECRETS,
    WRONG_KEY,
    Artifacts,
    check_artifacts,
    report_args,
)

MXGW_SIM = str(Path(sys.executable).with_name("mxgw-sim"))
MXGW_PY = str(Path(sys.executable).with_name("mxgw-py"))


def test_every_artifact_of_every_fault_case_is_free_of_secrets(artifacts: Artifacts) -> None:
    """The fault cases (test_matrix, test_hostile_messages) ran before this file, alphabetically."""
    if not artifacts.texts:
        pytest.skip("no fault case ran in this session: run tests/faults as a whole")
    assert len(artifacts.texts) >= 20
    assert artifacts.leaks() == []


SECRET_HEAVY = """
    name: every kind of secret in one failing run
    vars:
      token: "${secret-env:MXGW_FAULT_TOKEN}"
      derived: "prefix-${token}"
    steps:
      - open-session: {client-session-name: "secrets-${token}"}
      - register: {}
      - authenticate: {user: operator2, password-env: MXGW_OPERATOR_PASSWORD}
      - add-item: {item: Types.String, as: s}
      - advise: s
      - write: {item: s, value: "${derived}", restore: true}
      - expect-event: {item: s, data-change: {value: "${token}-not-this"}, within: 300ms}
"""


def test_secrets_in_values_and_failure_messages_are_masked_everywhere(
    sim: SimProcess, no_leaked_sessions: None, tmp_path: Path, artifacts: Artifacts
) -> None:
    path = scenario_file(tmp_path, "secrets.yaml", SECRET_HEAVY)
    result = run_cli(path, *sim_args(sim), "--verbose", *report_args(tmp_path), env=SECRET_ENV)
    assert result.code == 1, result.output
    report = check_artifacts("secret-heavy", result, tmp_path, artifacts)
    step = report["scenarios"][0]["steps"][6]
    assert step["status"] == "failed"
    # The failure still explains itself: the masked value is visible as ***.
    assert "***" in str(step)
    assert "***" in result.stdout


def test_a_wrong_password_is_never_shown(
    sim: SimProcess, no_leaked_sessions: None, tmp_path: Path, artifacts: Artifacts
) -> None:
    wrong = "Wr0ngPassw0rd-4471"
    path = scenario_file(
        tmp_path,
        "login.yaml",
        """
        name: a wrong password
        steps:
          - open-session: {}
          - register: {}
          - authenticate: {user: operator2, password-env: MXGW_WRONG_PASSWORD}
        """,
    )
    result = run_cli(
        path,
        *sim_args(sim),
        *report_args(tmp_path),
        env={**SECRET_ENV, "MXGW_WRONG_PASSWORD": wrong},
    )
    assert result.code == 1, result.output
    # Only the wrong password and the key were given (operator2 is here a user name).
    check_artifacts(
        "wrong-password", result, tmp_path, artifacts, secrets=(wrong, USER_KEY, SECRET_TOKEN)
    )


@pytest.mark.parametrize("form", ["separate", "equals", "abbreviated", "misspelt"])
def test_mxgw_run_refuses_a_key_on_the_command_line_without_echoing_it(form: str) -> None:
    args = {
        "separate": ["--api-key", USER_KEY],
        "equals": [f"--api-key={USER_KEY}"],
        "abbreviated": ["--api-k", USER_KEY],
        "misspelt": [f"--apikey={USER_KEY}"],
    }[form]
    done = subprocess.run(
        [MXGW_RUN, *args, str(ROOT / "scenarios" / "smoke.mxgw.yaml")],
        capture_output=True,
        text=True,
        env=env_with(),
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert "--api-key-env" in done.stderr or "values not shown" in done.stderr
    assert USER_KEY not in done.stdout + done.stderr


@pytest.mark.parametrize("form", ["separate", "equals", "ambiguous"])
def test_mxgw_sim_ctl_refuses_a_key_on_the_command_line_without_echoing_it(form: str) -> None:
    args = {
        "separate": ["--api-key", ADMIN_KEY],
        "equals": [f"--api-key={ADMIN_KEY}"],
        "ambiguous": ["--api-k", ADMIN_KEY],
    }[form]
    done = subprocess.run(
        [MXGW_SIM, "ctl", "--endpoint", "127.0.0.1:1", *args, "list-sessions"],
        capture_output=True,
        text=True,
        env=env_with(),
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert ADMIN_KEY not in done.stdout + done.stderr


def test_mxgw_py_hides_a_refused_key(sim: SimProcess) -> None:
    done = subprocess.run(
        [
            MXGW_PY,
            "open-session",
            "--endpoint",
            sim.endpoint,
            "--plaintext",
            "--api-key",
            WRONG_KEY,
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env_with(),
        timeout=30,
        check=False,
    )
    assert done.returncode != 0
    assert "UNAUTHENTICATED" in done.stdout + done.stderr
    assert WRONG_KEY not in done.stdout + done.stderr


def test_simulator_debug_log_never_shows_keys(sim_keys_file: Path) -> None:
    server_key = "mxgw_serveronly_77aa88bb99cc"
    process = start_sim(
        "--api-key-file", str(sim_keys_file), "--api-key", server_key, "--log-level", "DEBUG"
    )
    try:
        for key in (USER_KEY, server_key, WRONG_KEY):
            subprocess.run(
                [
                    MXGW_PY,
                    "open-session",
                    "--endpoint",
                    process.endpoint,
                    "--plaintext",
                    "--api-key-env",
                    KEY_ENV,
                    "--json",
                ],
                capture_output=True,
                text=True,
                env=env_with({KEY_ENV: key}),
                timeout=30,
                check=False,
            )
        process.wait_for_sessions(2, ADMIN_KEY)
    finally:
        process.stop()
    log = process.stderr_text()
    process.stderr_file.close()
    assert "Bearer <redacted>" in log  # the calls were logged...
    for key in (USER_KEY, server_key, WRONG_KEY, ADMIN_KEY):
        assert key not in log  # ...without their keys
    assert server_key not in str(process.info)


async def test_client_errors_logs_and_reprs_never_show_the_key(
    sim: SimProcess, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    options = ClientOptions(endpoint=sim.endpoint, api_key=WRONG_KEY, plaintext=True)
    assert WRONG_KEY not in repr(options)
    assert WRONG_KEY not in str(options)
    async with await GatewayClient.connect(options=options) as client:
        assert WRONG_KEY not in repr(client)
        with pytest.raises(AuthenticationError) as caught:
            await client.open_session("wrong key")
    error = caught.value
    texts = [str(error), repr(error), str(error.__cause__), str(error.__context__)]
    texts += [r.getMessage() for r in caplog.records]
    for text in texts:
        assert WRONG_KEY not in text


def test_redactor_masks_and_never_shows_what_it_masks() -> None:
    redactor = Redactor([USER_KEY, SECRET_TOKEN, *PASSWORDS.values()])
    assert USER_KEY not in repr(redactor)
    assert SECRET_TOKEN not in repr(redactor)
    data: Any = {"k": [f"x{USER_KEY}y", {SECRET_TOKEN: SECRET_TOKEN}], "n": 3}
    masked = redactor.data(data)
    flat = repr(masked)
    for secret in SECRETS[:2]:
        assert secret not in flat
    assert redactor.text(f"a {SECRET_TOKEN} b") == "a *** b"


def test_a_key_in_clear_text_to_another_host_is_warned_before_any_traffic(
    sim: SimProcess, caplog: pytest.LogCaptureFixture
) -> None:
    """The channel factory stands in for the network: it records that it was asked and
    returns a channel to the local simulator, so nothing leaves this machine."""
    order: list[str] = []
    remote = "gateway.plant.invalid:5000"

    def factory(options: ClientOptions) -> grpc.aio.Channel:
        order.append(f"channel for {options.endpoint}")
        return grpc.aio.insecure_channel(sim.endpoint)

    async def connect() -> None:
        async with await GatewayClient.connect(
            remote, api_key=USER_KEY, plaintext=True, channel_factory=factory, connect_timeout=5
        ):
            pass

    import asyncio

    caplog.set_level(logging.WARNING, logger="mxgateway")
    with pytest.warns(PlaintextKeyWarning) as warned:
        asyncio.run(connect())
    message = str(warned[0].message)
    assert remote in message
    assert USER_KEY not in message
    assert order == [f"channel for {remote}"]
    assert any(remote in r.getMessage() for r in caplog.records)
    assert all(USER_KEY not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("endpoint", "plaintext", "key"),
    [
        ("127.0.0.1:5000", True, USER_KEY),
        ("localhost:5000", True, USER_KEY),
        ("[::1]:5000", True, USER_KEY),
        ("gateway.plant.invalid:5000", False, USER_KEY),
        ("gateway.plant.invalid:5000", True, None),
    ],
    ids=["loopback-v4", "localhost", "loopback-v6", "tls", "no-key"],
)
def test_no_warning_where_nothing_crosses_the_network_in_clear(
    sim: SimProcess, endpoint: str, plaintext: bool, key: str | None
) -> None:
    def factory(options: ClientOptions) -> grpc.aio.Channel:
        return grpc.aio.insecure_channel(sim.endpoint)

    async def connect() -> None:
        async with await GatewayClient.connect(
            endpoint,
            api_key=key,
            plaintext=plaintext,
            channel_factory=factory,
            connect_timeout=5,
        ):
            pass

    import asyncio

    with warnings.catch_warnings():
        warnings.simplefilter("error", PlaintextKeyWarning)
        asyncio.run(connect())


PLANNED = """
    name: a plan with secret values
    vars:
      token: "${secret-env:MXGW_FAULT_TOKEN}"
    steps:
      - open-session: {client-session-name: "plan-${token}"}
      - register: {}
      - add-item: {item: Types.String, as: s}
      - write: {item: s, value: "${token}"}
      - write: {item: s, value: "pre-${token}-post"}
"""


def test_plan_masks_secret_values(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, "plan.yaml", PLANNED)
    result = run_cli(path, "--plan", env=SECRET_ENV)
    assert result.code == 0, result.output
    assert "Types.String <-" in result.stdout  # the writes are listed...
    assert SECRET_TOKEN not in result.output  # ...without the secret
    assert "***" in result.stdout


def test_a_secret_that_is_not_a_duration_is_refused_without_showing_it(tmp_path: Path) -> None:
    path = scenario_file(
        tmp_path,
        "bad.yaml",
        """
        name: a secret where a duration belongs
        vars: {wait: "${secret-env:MXGW_FAULT_TOKEN}"}
        steps:
          - wait: {for: "${wait}"}
        """,
    )
    report = tmp_path / "report.json"
    result = run_cli(path, "--simulate", report=report, env=SECRET_ENV)
    assert result.code == 2, result.output
    assert "must be a duration" in result.stdout
    assert SECRET_TOKEN not in result.output
    assert SECRET_TOKEN not in report.read_text(encoding="utf-8")


AWKWARD = "Pw\"q\\u<&>é'z9"  # quotes, a backslash, markup and non-ASCII


def _forms(secret: str) -> set[str]:
    """Every way a report could spell the secret: as is, repr- and JSON-escaped, and those
    escaped again for XML/HTML and JSON files."""
    import html
    import json
    from xml.sax.saxutils import escape

    inner = {secret, repr(secret)[1:-1], repr(secret + "'\"")[1:-4], json.dumps(secret)[1:-1]}
    out = set(inner)
    for text in inner:
        out |= {html.escape(text), html.escape(text, quote=False), escape(text)}
        out |= {json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1]}
    return out


def test_a_secret_with_quotes_backslashes_and_markup_is_masked_in_every_spelling(
    sim: SimProcess, no_leaked_sessions: None, tmp_path: Path, artifacts: Artifacts
) -> None:
    path = scenario_file(
        tmp_path,
        "awkward.yaml",
        """
        name: an awkward secret shown in a failure
        vars: {token: "${secret-env:MXGW_AWKWARD}"}
        steps:
          - open-session: {client-session-name: awkward}
          - register: {}
          - add-item: {item: Types.String, as: s}
          - advise: s
          - write: {item: s, value: "${token}", restore: true}
          - expect-event: {item: s, data-change: {value: "nope"}, within: 200ms}
        """,
    )
    result = run_cli(
        path,
        *sim_args(sim),
        "--verbose",
        *report_args(tmp_path),
        env={**SECRET_ENV, "MXGW_AWKWARD": AWKWARD},
    )
    assert result.code == 1, result.output
    check_artifacts("awkward", result, tmp_path, artifacts, secrets=(USER_KEY, AWKWARD))
    texts = {"console": result.output}
    for name in ("report.json", "report.xml", "report.html"):
        texts[name] = (tmp_path / name).read_text(encoding="utf-8")
    leaks = [
        (where, form) for where, text in texts.items() for form in _forms(AWKWARD) if form in text
    ]
    assert leaks == []
    assert "'***'" in result.stdout  # the failure still says what it saw, masked


class _EchoingGateway(pb_grpc.MxAccessGatewayServicer):  # type: ignore[misc]
    """A careless gateway: its errors quote the request's password back, as repr shows it."""

    async def Invoke(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        password = request.authenticate_user.password
        await context.abort(
            grpc.StatusCode.INVALID_ARGUMENT, f"bad password {password!r} (raw: {password})"
        )


@pytest.mark.parametrize(
    "password", [AWKWARD, "plain-pass-word", "sec"], ids=["awkward", "plain", "short"]
)
async def test_client_scrubs_a_password_a_gateway_echoes_in_any_spelling(password: str) -> None:
    server = grpc.aio.server()
    pb_grpc.add_MxAccessGatewayServicer_to_server(_EchoingGateway(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with await GatewayClient.connect(f"127.0.0.1:{port}", plaintext=True) as client:
            request = pb.MxCommandRequest(session_id="s", kind=pb.MX_COMMAND_KIND_AUTHENTICATE_USER)
            request.authenticate_user.user_name = "operator2"
            request.authenticate_user.password = password
            with pytest.raises(InvalidArgumentError) as caught:
                await client.invoke_raw(request, secrets=(password,))
    finally:
        await server.stop(None)
    text = f"{caught.value} {caught.value!r}"
    assert "bad password" in text
    for form in _forms(password):
        assert form not in text
