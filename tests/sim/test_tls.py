"""TLS with a throw-away CA (trustme): the client trusts it, plaintext is refused."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from simsupport import Connect, SimFactory

from mxgateway import GatewayUnavailableError
from mxgw_sim.testing import ADMIN_KEY, SimProcess


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, Path]]:
    """(CA bundle, server certificate chain, server key) for 127.0.0.1 and localhost."""
    folder = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_file = folder / "ca.pem"
    chain = folder / "server.pem"
    key = folder / "server.key"
    ca.cert_pem.write_to_path(str(ca_file))
    cert.private_key_pem.write_to_path(str(key))
    with chain.open("wb") as handle:
        for blob in cert.cert_chain_pems:
            handle.write(blob.bytes())
    yield ca_file, chain, key


@pytest.fixture
def tls_sim(sim_factory: SimFactory, pki: tuple[Path, Path, Path]) -> SimProcess:
    ca_file, chain, key = pki
    return sim_factory("--tls-cert", str(chain), "--tls-key", str(key), ca_file=str(ca_file))


async def test_client_with_the_ca_opens_a_session(tls_sim: SimProcess, connect: Connect) -> None:
    assert tls_sim.info["tls"] is True
    gateway = await connect(tls_sim)
    session = await gateway.open_session("tls")
    assert await session.register("tls") > 0
    await session.close()
    assert tls_sim.wait_for_sessions(0, ADMIN_KEY) == []


async def test_plaintext_client_cannot_reach_a_tls_server(
    tls_sim: SimProcess, connect: Connect
) -> None:
    with pytest.raises(GatewayUnavailableError):
        await connect(tls_sim, plaintext=True, ca_file=None, connect_timeout=2)


def test_ctl_over_tls(tls_sim: SimProcess, pki: tuple[Path, Path, Path]) -> None:
    ca_file = pki[0]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mxgw_sim",
            "ctl",
            "--endpoint",
            tls_sim.endpoint,
            "--tls",
            "--ca-file",
            str(ca_file),
            "list-sessions",
            "--json",
        ],
        capture_output=True,
        text=True,
        env={"MXGW_API_KEY": ADMIN_KEY, "PATH": ""},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert '"sessions"' in result.stdout


def test_key_without_cert_is_a_usage_error(sim_factory: SimFactory, tmp_path: Path) -> None:
    key = tmp_path / "server.key"
    key.write_text("-----BEGIN PRIVATE KEY-----\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mxgw_sim", "--listen", "127.0.0.1:0", "--tls-key", str(key)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--tls-cert and --tls-key go together" in result.stderr
