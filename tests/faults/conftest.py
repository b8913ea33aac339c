"""Fixtures of the fault suite: live runs that are always stopped, a TLS simulator, and the
artifacts of every case (for the secrets grep)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme
from e2e.support import LiveRun

from mxgw_sim.testing import SimProcess, start_sim

from .harness import SECRET_ENV, Artifacts

_ARTIFACTS = Artifacts()


@pytest.fixture(scope="session")
def artifacts() -> Artifacts:
    """Every artifact of every fault case run so far in this test run."""
    return _ARTIFACTS


@pytest.fixture
def live_run() -> Iterator[Callable[..., LiveRun]]:
    """Start ``mxgw-run`` processes (secret token in their environment); killed after the test."""
    started: list[LiveRun] = []

    def start(*args: str | Path, env: dict[str, str] | None = None) -> LiveRun:
        run = LiveRun(*args, env={**SECRET_ENV, **(env or {})})
        started.append(run)
        return run

    try:
        yield start
    finally:
        for run in started:
            run.kill()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA with a server certificate for 127.0.0.1 and localhost, and an unrelated CA."""
    folder = tmp_path_factory.mktemp("fault-pki")
    ca, other = trustme.CA(), trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    paths = {
        "ca": folder / "ca.pem",
        "other-ca": folder / "other-ca.pem",
        "chain": folder / "server.pem",
        "key": folder / "server.key",
    }
    ca.cert_pem.write_to_path(str(paths["ca"]))
    other.cert_pem.write_to_path(str(paths["other-ca"]))
    cert.private_key_pem.write_to_path(str(paths["key"]))
    with paths["chain"].open("wb") as handle:
        for blob in cert.cert_chain_pems:
            handle.write(blob.bytes())
    return paths


@pytest.fixture(scope="module")
def tls_sim(sim_keys_file: Path, pki: dict[str, Path]) -> Iterator[SimProcess]:
    """A simulator serving TLS with the certificate of ``pki["ca"]``."""
    process = start_sim(
        "--api-key-file",
        str(sim_keys_file),
        "--tls-cert",
        str(pki["chain"]),
        "--tls-key",
        str(pki["key"]),
        "--log-level",
        "WARNING",
        ca_file=str(pki["ca"]),
    )
    try:
        yield process
    finally:
        process.close()
