"""``mxgw-run`` warns, before anything runs, when its API key would cross the network in
clear text (``--plaintext`` to a host that is not this machine), and never shows the key.

No packet leaves the machine: the executable runs a scenario that needs no gateway, so
it never connects (the warning is printed when the options are resolved); the decision
itself is checked in process for every kind of endpoint.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e.support import KEY_ENV, run_cli, scenario_file

from mxgw_runner.engine.connection import resolve_connection
from mxgw_sim.testing import USER_KEY

#: TEST-NET-1 (RFC 5737): never routed; and no test here sends anything to it.
REMOTE = "192.0.2.1:5000"


@pytest.mark.parametrize(
    ("endpoint", "transport", "warns"),
    [
        (REMOTE, "plaintext", True),
        ("gw01.plant.example:5001", "plaintext", True),
        ("[2001:db8::1]:5000", "plaintext", True),
        (REMOTE, "tls", False),
        (REMOTE, None, False),  # TLS is the default off loopback
        ("127.0.0.1:5000", "plaintext", False),
        ("localhost:5000", "plaintext", False),
        ("[::1]:5000", "plaintext", False),
    ],
)
def test_the_warning_is_given_exactly_for_a_key_in_clear_off_this_machine(
    endpoint: str, transport: str | None, warns: bool
) -> None:
    connection = resolve_connection(
        endpoint=endpoint,
        transport=transport,
        ca_file=None,
        server_name_override=None,
        api_key_env=KEY_ENV,
        env={KEY_ENV: USER_KEY},
    )
    warning = connection.key_in_clear_warning(KEY_ENV)
    assert (warning is not None) == warns
    if warning is not None:
        assert endpoint in warning and f"${KEY_ENV}" in warning and "--tls" in warning
        assert USER_KEY not in warning


def test_no_key_no_warning() -> None:
    connection = resolve_connection(
        endpoint=REMOTE,
        transport="plaintext",
        ca_file=None,
        server_name_override=None,
        api_key_env=None,
        env={},
    )
    assert connection.key_in_clear_warning() is None


def test_mxgw_run_warns_on_stderr_before_running(tmp_path: Path) -> None:
    # No step opens a session, so the run never connects: nothing is sent to REMOTE.
    path = scenario_file(tmp_path, "local.yaml", "name: local only\nsteps:\n  - wait: 1ms\n")
    result = run_cli(path, "--endpoint", REMOTE, "--plaintext", "--api-key-env", KEY_ENV)

    assert result.code == 0, result.output
    first = result.stderr.splitlines()[0]
    assert first == (
        f"mxgw-run: warning: the API key from ${KEY_ENV} will be sent without TLS to "
        f"{REMOTE}; anyone on the network path can read it (use --tls)"
    )
    assert USER_KEY not in result.output
    # Loopback in clear text is the normal local setup: no warning.
    local = run_cli(path, "--endpoint", "127.0.0.1:5000", "--plaintext", "--api-key-env", KEY_ENV)
    assert local.code == 0 and local.stderr == ""
