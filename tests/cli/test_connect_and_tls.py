"""Connection failures (unreachable, bad address) and TLS with a test CA made by trustme."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from cli_helpers import API_KEY, KEY_ENV, run_cli

from mxgw_sim.testing import SimProcess, running_sim

SERVER_NAME = "mxgw.test"


def _closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_endpoint_fails_within_the_connect_timeout() -> None:
    endpoint = f"127.0.0.1:{_closed_port()}"
    start = time.monotonic()
    run = run_cli("open-session", "--endpoint", endpoint, "--connect-timeout", "1", "--json")
    elapsed = time.monotonic() - start
    error = run.expect(3).doc["error"]
    assert elapsed < 6, elapsed  # 1 s connect timeout plus interpreter start-up
    assert endpoint in error["message"]
    assert (error["code"], error["type"]) == ("UNAVAILABLE", "GatewayUnavailableError")
    human = run_cli(
        "register", "--endpoint", endpoint, "--connect-timeout", "0.5", "--session-id", "session-x"
    )
    assert endpoint in human.expect(3).stderr
    assert len(human.stderr.strip().splitlines()) == 1


def test_endpoint_from_the_environment() -> None:
    endpoint = f"127.0.0.1:{_closed_port()}"
    run = run_cli("open-session", "--connect-timeout", "0.5", env={"MXGATEWAY_ENDPOINT": endpoint})
    assert endpoint in run.expect(3).stderr


@pytest.mark.parametrize(
    "endpoint", ["localhost", "localhost:notaport", "host:99999", "", "http://x/y:5000"]
)
def test_bad_endpoint_is_a_usage_error(endpoint: str) -> None:
    run = run_cli("open-session", "--endpoint", endpoint, "--json")
    error = run.expect(2).doc["error"]
    assert error["code"] == "INVALID_ENDPOINT"
    assert "--endpoint" in error["message"]


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA, a server certificate for ``mxgw.test`` signed by it, and an unrelated CA."""
    root = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    cert = ca.issue_cert(SERVER_NAME)
    files = {
        "ca": root / "ca.pem",
        "cert": root / "server.pem",
        "key": root / "server.key",
        "other_ca": root / "other-ca.pem",
    }
    ca.cert_pem.write_to_path(str(files["ca"]))
    cert.private_key_pem.write_to_path(str(files["key"]))
    files["cert"].write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    trustme.CA().cert_pem.write_to_path(str(files["other_ca"]))
    return files


@pytest.fixture(scope="module")
def tls_sim(tls_files: dict[str, Path]) -> Iterator[SimProcess]:
    """A simulator serving TLS with the test CA's certificate."""
    with running_sim(
        "--api-key",
        API_KEY,
        "--tls-cert",
        str(tls_files["cert"]),
        "--tls-key",
        str(tls_files["key"]),
        "--log-level",
        "WARNING",
    ) as sim:
        assert sim.info["tls"] is True
        yield sim


def test_tls_with_a_custom_ca(tls_sim: SimProcess, tls_files: dict[str, Path]) -> None:
    tls = [
        "--endpoint",
        tls_sim.endpoint,
        "--ca-file",
        str(tls_files["ca"]),
        "--server-name-override",
        SERVER_NAME,
        "--api-key-env",
        KEY_ENV,
    ]
    env = {KEY_ENV: API_KEY}
    run = run_cli("smoke", *tls, "--item", "Pump102.ReadOnly", "--json", env=env)
    assert run.expect(0).doc["closed"] is True
    # explicit --tls gives the same
    opened = run_cli("open-session", "--tls", *tls, "--json", env=env).expect(0).doc
    run_cli("close-session", *tls, "--session-id", opened["session_id"], env=env).expect(0)


def test_tls_with_the_wrong_ca_fails_clearly(
    tls_sim: SimProcess, tls_files: dict[str, Path]
) -> None:
    run = run_cli(
        "open-session",
        "--endpoint",
        tls_sim.endpoint,
        "--ca-file",
        str(tls_files["other_ca"]),
        "--server-name-override",
        SERVER_NAME,
        "--connect-timeout",
        "2",
        "--json",
    )
    error = run.expect(3).doc["error"]
    assert tls_sim.endpoint in error["message"]
    assert "TLS" in error["message"] or "ca_file" in error["message"]


def test_plaintext_against_tls_fails_as_a_connection_error(tls_sim: SimProcess) -> None:
    run = run_cli(
        "open-session", "--endpoint", tls_sim.endpoint, "--plaintext", "--connect-timeout", "1"
    )
    assert tls_sim.endpoint in run.expect(3).stderr


def test_tls_option_conflicts_and_missing_ca_file(tmp_path: Path) -> None:
    conflict = run_cli("open-session", "--plaintext", "--ca-file", str(tmp_path / "x.pem"))
    assert "--plaintext cannot be combined" in conflict.expect(2).stderr
    both = run_cli("open-session", "--plaintext", "--tls")
    assert "--plaintext and --tls cannot be used together" in both.expect(2).stderr
    missing = run_cli("open-session", "--ca-file", str(tmp_path / "missing.pem"))
    assert "missing.pem" in missing.expect(2).stderr
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    bad = run_cli("open-session", "--tls", "--ca-file", str(not_pem), "--json")
    assert "PEM" in bad.expect(2).doc["error"]["message"]
