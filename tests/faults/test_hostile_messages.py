"""Oversized messages and malformed values: the simulator and the client refuse them with
clear errors, the session survives, and ``mxgw-run`` reports them without a traceback."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e.support import run_cli, scenario_file, session_ids, sim_args
from hypothesis import given, settings
from hypothesis import strategies as st

from mxgateway import (
    GatewayClient,
    InvalidArgumentError,
    ResourceExhaustedError,
    SparseArray,
    ValueConversionError,
    WriteComplete,
    to_mx_value,
)
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgw_sim.galaxy.coerce import MAX_ARRAY_ELEMENTS
from mxgw_sim.testing import ADMIN_KEY, USER_KEY, SimProcess, start_sim

from .harness import SECRET_ENV, Artifacts, check_artifacts, report_args

#: The request limit of the small simulator (the default is 4 MiB; a small one keeps
#: the oversized messages cheap).
LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def small_sim(sim_keys_file: Path) -> Iterator[SimProcess]:
    """A simulator accepting requests up to :data:`LIMIT` bytes."""
    process = start_sim(
        "--api-key-file",
        str(sim_keys_file),
        "--max-message-bytes",
        str(LIMIT),
        "--log-level",
        "WARNING",
    )
    try:
        yield process
    finally:
        process.close()


async def test_oversized_write_is_refused_and_the_session_survives(small_sim: SimProcess) -> None:
    async with await GatewayClient.connect(
        small_sim.endpoint, api_key=USER_KEY, plaintext=True
    ) as client:
        session = await client.open_session("oversized")
        try:
            server = await session.register("oversized")
            item = await session.add_item(server, "Types.String")
            with pytest.raises(ResourceExhaustedError) as caught:
                await session.write(server, item, "x" * (2 * LIMIT))
            message = str(caught.value)
            assert "RESOURCE_EXHAUSTED" in message
            assert str(LIMIT) in message  # says what the limit is
            assert len(message) < 500  # not the payload echoed back
            # The refusal cost only that call: the session still works.
            assert await session.add_item(server, "Types.Int") > 0
        finally:
            await session.close()
    assert small_sim.wait_for_sessions(0, ADMIN_KEY) == []


async def test_malformed_invoke_is_invalid_argument(small_sim: SimProcess) -> None:
    async with await GatewayClient.connect(
        small_sim.endpoint, api_key=USER_KEY, plaintext=True
    ) as client:
        session = await client.open_session("malformed")
        try:
            for request in (
                pb.MxCommandRequest(session_id=session.session_id),  # no kind
                pb.MxCommandRequest(  # a kind whose payload is missing
                    session_id=session.session_id, kind=pb.MX_COMMAND_KIND_REGISTER
                ),
            ):
                with pytest.raises(InvalidArgumentError) as caught:
                    await client.invoke_raw(request)
                assert "INVALID_ARGUMENT" in str(caught.value)
            assert await session.register("still fine") > 0
        finally:
            await session.close()


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        ("abc", "int32"),
        (2**40, "int32"),
        (math.nan, "int32"),
        ("not a time", "time"),
        ("1,x,3", "int32[]"),
        (object(), None),
        ({"a": 1}, None),
        ("yes-ish", "bool"),
    ],
    ids=["text-int", "overflow", "nan-int", "bad-time", "bad-array", "object", "dict", "bool"],
)
def test_malformed_values_are_refused_naming_the_value(value: Any, type_name: str | None) -> None:
    with pytest.raises(ValueConversionError) as caught:
        to_mx_value(value, type_name)
    message = str(caught.value)
    assert message
    assert len(message) < 300


def test_mxgw_run_reports_an_oversized_write_without_a_traceback(
    small_sim: SimProcess, tmp_path: Path, artifacts: Artifacts
) -> None:
    big = "y" * (2 * LIMIT)
    (tmp_path / "vars.yaml").write_text(f"big: {big}\n", encoding="utf-8")
    path = scenario_file(
        tmp_path,
        "big.yaml",
        """
        name: an oversized write
        steps:
          - open-session: {client-session-name: oversized-run}
          - register: {}
          - add-item: {item: Types.String, as: s}
          - advise: s
          - write: {item: s, value: "${big}", restore: true}
        """,
    )
    result = run_cli(
        path,
        *sim_args(small_sim),
        "--vars-file",
        tmp_path / "vars.yaml",
        *report_args(tmp_path),
        env=SECRET_ENV,
    )
    assert result.code == 3, result.output
    report = check_artifacts("oversized", result, tmp_path, artifacts)
    step = report["scenarios"][0]["steps"][4]
    assert step["status"] == "error"
    assert "RESOURCE_EXHAUSTED" in step["message"]
    assert "Traceback" not in result.output
    assert big not in result.output
    assert {c["status"] for c in report["scenarios"][0]["cleanup"]} == {"passed"}
    assert session_ids(small_sim, "oversized-run") == []


def test_mxgw_run_refuses_a_malformed_typed_value_at_the_step(
    small_sim: SimProcess, tmp_path: Path, artifacts: Artifacts
) -> None:
    path = scenario_file(
        tmp_path,
        "bad.yaml",
        """
        name: a malformed value
        steps:
          - open-session: {client-session-name: malformed-run}
          - register: {}
          - add-item: {item: Types.Int, as: i}
          - write: {item: i, value: twelve, type: integer}
        """,
    )
    result = run_cli(path, *sim_args(small_sim), *report_args(tmp_path), env=SECRET_ENV)
    assert result.code == 2, result.output
    report = check_artifacts("malformed", result, tmp_path, artifacts)
    step = report["scenarios"][0]["steps"][3]
    assert step["status"] == "error"
    assert "twelve" in step["message"]
    assert "Traceback" not in result.output
    assert session_ids(small_sim, "malformed-run") == []


@pytest.fixture
def capped_sim(sim_keys_file: Path) -> Iterator[SimProcess]:
    """A simulator whose address space is capped at 2 GiB, so that a value that makes it
    allocate without bound fails inside it instead of exhausting this machine."""
    import resource

    process = start_sim("--api-key-file", str(sim_keys_file), "--log-level", "WARNING")
    cap = 2 * 1024 * 1024 * 1024
    resource.prlimit(process.pid, resource.RLIMIT_AS, (cap, cap))
    try:
        yield process
    finally:
        process.close()


@pytest.mark.parametrize("total_length", [2**32 - 1, 50_000_000])
async def test_a_huge_sparse_array_write_is_refused_and_the_simulator_lives(
    capped_sim: SimProcess, total_length: int
) -> None:
    """A 20-byte request asking for a 4-billion-element array: refused at once, clearly."""
    async with await GatewayClient.connect(
        capped_sim.endpoint, api_key=USER_KEY, plaintext=True
    ) as client:
        session = await client.open_session("sparse")
        try:
            server = await session.register("sparse")
            item = await session.add_item(server, "Types.IntArray[]")
            events = session.events()
            try:
                await session.advise(server, item)
                await session.write(server, item, SparseArray("int32", total_length, {0: 1}))
                async with asyncio.timeout(10):
                    async for event in events:
                        if isinstance(event, WriteComplete):
                            break
            finally:
                events.cancel()
            assert event.item_handle == item
            status = event.status
            assert status.category.name == "SOFTWARE_ERROR", status
            assert f"at most {MAX_ARRAY_ELEMENTS}" in status.diagnostic_text
            # The session and the simulator still work.
            assert await session.add_item(server, "Types.Int") > 0
        finally:
            await session.close()
    assert capped_sim.process.poll() is None
    assert capped_sim.wait_for_sessions(0, ADMIN_KEY) == []


@pytest.mark.parametrize("sparse", [False, True], ids=["value", "sparse"])
def test_mxgw_py_refuses_a_deeply_nested_value_before_connecting(sparse: bool) -> None:
    import subprocess
    import sys

    extra = ["--type", "int32[]", "--sparse-length", "5"] if sparse else []
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("mxgw-py")),
            "write",
            "--endpoint",
            "127.0.0.1:1",
            "--plaintext",
            "--session-id",
            "s",
            "--server-handle",
            "1",
            "--item-handle",
            "1",
            *extra,
            "--value",
            "[" * 50_000,
            "--connect-timeout",
            "0.5",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "nested too deeply" in done.stderr
    assert "internal error" not in done.stderr


@settings(max_examples=300, deadline=1000)
@given(
    st.text(max_size=60) | st.text(alphabet=st.sampled_from(list('[]{}",:0123.e-tn ')), max_size=60)
)
def test_property_mxgw_py_value_parser_is_total(text: str) -> None:
    from mxgateway_cli.commands.write import parse_value
    from mxgateway_cli.errors import UsageError

    for type_name in (None, "int32", "double[]", "time", "string"):
        try:
            value = parse_value(text, type_name)
        except (UsageError, ValueConversionError) as exc:
            assert str(exc)
        else:
            assert isinstance(value, pb.MxValue)


HOSTILE_TEXT = r"""
    name: "hostile \x1b]0;pwned\x07 <b>name</b> \x1b[31m"
    steps:
      - open-session: {client-session-name: hostile-text}
      - register: {}
      - add-item: {item: Types.String, as: s}
      - advise: s
      - write:
          item: s
          value: "v\x00\x01\x1b[2J<script>alert(1)</script>]]>&amp;\uFFFE"
          restore: true
      - expect-event: {item: s, data-change: {value: "nope"}, within: 200ms}
"""


def test_hostile_text_from_the_plant_or_the_file_cannot_break_reports_or_the_terminal(
    sim: SimProcess, no_leaked_sessions: None, tmp_path: Path, artifacts: Artifacts
) -> None:
    from .harness import html_tags

    path = scenario_file(tmp_path, "hostile.yaml", HOSTILE_TEXT)
    result = run_cli(path, *sim_args(sim), "--verbose", *report_args(tmp_path), env=SECRET_ENV)
    assert result.code == 1, result.output
    # The JUnit file is valid XML against its XSD, the JSON report against its schema...
    report = check_artifacts("hostile-text", result, tmp_path, artifacts)
    assert report["scenarios"][0]["steps"][5]["status"] == "failed"
    # ...the HTML record runs no script the plant sent...
    assert "script" not in html_tags(tmp_path / "report.html")
    # ...and no control character reaches the terminal (no retitling, clearing, colour).
    assert not any(ch in result.stdout for ch in "\x00\x01\x07\x1b")
    assert "\\x1b" in result.stdout  # shown, escaped
