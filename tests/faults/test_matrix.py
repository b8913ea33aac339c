"""The fault matrix: each fault injected into a real ``mxgw-sim`` process under the real
``mxgw-run`` executable, and what every case owes checked every time — the documented exit
code, a JSON report valid against its schema, a JUnit file valid against its XSD, the HTML
record, every cleanup entry attempted and reported, written values put back where the
gateway still allows it, and no session left open (or a report saying what was left).

Cases wait for the console line a step prints as it finishes, never on guessed sleeps.
"""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from e2e.support import (
    ROOT,
    CliResult,
    LiveRun,
    control,
    read_values,
    run_cli,
    scenario_file,
    set_value,
    sim_args,
)

from mxgw_sim.generated import mxgw_sim_control_pb2 as cpb
from mxgw_sim.testing import ADMIN_KEY, SimProcess

from .harness import (
    CLEANUP_ORDER,
    FREE,
    SECRET_ENV,
    WRONG_KEY,
    Artifacts,
    check_artifacts,
    cleanup_of,
    free_port,
    report_args,
    session_of,
    set_latency,
    waiting_scenario,
)


def assert_everything_released(report: dict[str, Any], sim: SimProcess) -> None:
    """Every cleanup entry ran, newest first, and passed; the written value is restored."""
    assert list(cleanup_of(report)) == CLEANUP_ORDER
    assert set(cleanup_of(report).values()) == {"passed"}
    assert read_values(sim, FREE) == {FREE: 0}


SMOKE = ROOT / "scenarios" / "smoke.mxgw.yaml"


def run_case(*args: str | Path, env: dict[str, str] | None = None) -> CliResult:
    """Run ``mxgw-run`` to completion with the secret token in its environment."""
    return run_cli(*args, env={**SECRET_ENV, **(env or {})}, timeout=60)


def start_waiting(
    live_run: Callable[..., LiveRun], sim: SimProcess, tmp_path: Path, client: str, **kw: Any
) -> LiveRun:
    """Start :func:`waiting_scenario` against ``sim`` and wait until its write is done."""
    path = scenario_file(tmp_path, "case.yaml", waiting_scenario(client, **kw))
    run = live_run(path, *sim_args(sim), *report_args(tmp_path))
    run.wait_for_line("07 write")
    return run


# --- the gateway is missing, dies, or refuses us --------------------------------------


def test_gateway_absent_at_start(tmp_path: Path, artifacts: Artifacts) -> None:
    endpoint = f"127.0.0.1:{free_port()}"
    result = run_case(
        SMOKE,
        "--endpoint",
        endpoint,
        "--plaintext",
        "--connect-timeout",
        "1",
        *report_args(tmp_path),
    )
    assert result.code == 3, result.output
    report = check_artifacts("absent", result, tmp_path, artifacts)
    scenario = report["scenarios"][0]
    assert scenario["status"] == "error"
    assert endpoint in scenario["message"] or endpoint in result.output
    assert scenario["cleanup"] == []  # nothing was acquired, so nothing is left


def test_gateway_killed_mid_scenario_reports_what_was_not_released(
    sim_factory: Callable[..., SimProcess],
    live_run: Callable[..., LiveRun],
    tmp_path: Path,
    artifacts: Artifacts,
) -> None:
    sim = sim_factory()
    run = start_waiting(live_run, sim, tmp_path, "killed")
    sim.process.kill()
    sim.process.wait()
    result = run.finish()

    assert result.code == 3, result.output
    report = check_artifacts("killed", result, tmp_path, artifacts)
    scenario = report["scenarios"][0]
    assert scenario["status"] == "error"
    assert "event stream lost" in scenario["steps"][7]["message"]
    # Every undo was attempted; each says it could not be done.
    assert [c["action"] for c in scenario["cleanup"]] == CLEANUP_ORDER
    assert {c["status"] for c in scenario["cleanup"]} == {"failed"}
    assert all(c["message"] for c in scenario["cleanup"])


def test_wrong_api_key(
    sim: SimProcess, no_leaked_sessions: None, tmp_path: Path, artifacts: Artifacts
) -> None:
    result = run_case(
        SMOKE, *sim_args(sim), *report_args(tmp_path), env={"MXGW_TEST_API_KEY": WRONG_KEY}
    )
    assert result.code == 3, result.output
    report = check_artifacts("wrong-key", result, tmp_path, artifacts)
    assert report["scenarios"][0]["status"] == "error"
    assert "UNAUTHENTICATED" in result.output


@pytest.mark.parametrize("mistake", ["wrong CA", "wrong name"])
def test_tls_refused(
    tls_sim: SimProcess, pki: dict[str, Path], tmp_path: Path, artifacts: Artifacts, mistake: str
) -> None:
    tls = (
        ["--ca-file", str(pki["other-ca"])]
        if mistake == "wrong CA"
        else ["--ca-file", str(pki["ca"]), "--server-name-override", "gateway.invalid"]
    )
    result = run_case(
        SMOKE,
        "--endpoint",
        tls_sim.endpoint,
        "--tls",
        *tls,
        "--api-key-env",
        "MXGW_TEST_API_KEY",
        "--connect-timeout",
        "2",
        *report_args(tmp_path),
    )
    assert result.code == 3, result.output
    report = check_artifacts(f"tls-{mistake}", result, tmp_path, artifacts)
    assert report["scenarios"][0]["status"] == "error"
    assert tls_sim.wait_for_sessions(0, ADMIN_KEY) == []


def test_tls_with_the_right_ca_and_name_passes(
    tls_sim: SimProcess, pki: dict[str, Path], tmp_path: Path, artifacts: Artifacts
) -> None:
    # The control case: the refusals above are the CA's and the name's doing.
    result = run_case(
        SMOKE,
        "--endpoint",
        tls_sim.endpoint,
        "--ca-file",
        str(pki["ca"]),
        "--server-name-override",
        "localhost",
        "--api-key-env",
        "MXGW_TEST_API_KEY",
        *report_args(tmp_path),
    )
    assert result.code == 0, result.output
    check_artifacts("tls-ok", result, tmp_path, artifacts)
    assert tls_sim.wait_for_sessions(0, ADMIN_KEY) == []


# --- the session or its stream goes wrong under a running scenario ---------------------

RECONNECT = """
    name: survives a dropped event stream
    vars: {token: "${secret-env:MXGW_FAULT_TOKEN}"}
    timeouts: {step: 20s}
    steps:
      - open-session: {client-session-name: "dropped-${token}"}
      - register: {}
      - add-item: {item: Types.Int, as: int}
      - advise: int
      - expect-event: {item: int, data-change: {value: 42}}
      - expect-event: {item: int, data-change: {value: 21}, mode: next}
      - expect-event: {item: int, data-change: {value: 22}, mode: next}
      - expect-no-event: {item: int, for: 300ms}
"""


def test_event_stream_dropped_mid_wait_resumes_without_loss_or_duplicates(
    sim: SimProcess,
    no_leaked_sessions: None,
    live_run: Callable[..., LiveRun],
    tmp_path: Path,
    artifacts: Artifacts,
) -> None:
    path = scenario_file(tmp_path, "case.yaml", RECONNECT)
    run = live_run(path, *sim_args(sim), *report_args(tmp_path), "--verbose")
    run.wait_for_line("05 expect-event")
    reply = control(sim, "DropStreams", cpb.SessionSelector(session_id=session_of(sim, "dropped")))
    assert reply.affected == 1
    set_value(sim, "Types.Int", 21, "int32")
    set_value(sim, "Types.Int", 22, "int32")
    result = run.finish()

    assert result.code == 0, result.output
    report = check_artifacts("dropped", result, tmp_path, artifacts)
    scenario = report["scenarios"][0]
    assert "the event stream dropped and was resumed" in scenario["message"]
    timeline = [e for step in scenario["steps"] for e in step["timeline"]]
    sequences = [e["worker-sequence"] for e in timeline]
    assert len(sequences) == len(set(sequences)), "an event was recorded twice"
    assert {c["status"] for c in scenario["cleanup"]} == {"passed"}


def test_worker_crash_faults_the_session_and_it_is_still_closed(
    sim_factory: Callable[..., SimProcess],
    live_run: Callable[..., LiveRun],
    tmp_path: Path,
    artifacts: Artifacts,
) -> None:
    sim = sim_factory("--worker-process")
    run = start_waiting(live_run, sim, tmp_path, "crash")
    (info,) = sim.list_sessions(ADMIN_KEY)
    assert info.worker_pid > 0
    control(sim, "KillWorker", cpb.SessionSelector(session_id=info.session_id))
    result = run.finish()

    assert result.code == 3, result.output
    report = check_artifacts("worker-crash", result, tmp_path, artifacts)
    step = report["scenarios"][0]["steps"][7]
    assert step["status"] == "error"
    assert "session faulted" in step["message"]
    cleanup = cleanup_of(report)
    assert list(cleanup) == CLEANUP_ORDER
    assert cleanup["close-session"] == "passed"
    # The worker is gone: the value it wrote cannot be put back, and the report says so.
    assert cleanup["restore"] == "failed"
    assert sim.wait_for_sessions(0, ADMIN_KEY) == []
    assert read_values(sim, FREE) == {FREE: 5}


def test_session_expired_by_lease(
    sim: SimProcess,
    no_leaked_sessions: None,
    live_run: Callable[..., LiveRun],
    tmp_path: Path,
    artifacts: Artifacts,
) -> None:
    run = start_waiting(live_run, sim, tmp_path, "expired")
    control(sim, "ExpireSession", cpb.SessionSelector(session_id=session_of(sim, "expired")))
    result = run.finish()

    assert result.code == 3, result.output
    report = check_artifacts("expired", result, tmp_path, artifacts)
    step = report["scenarios"][0]["steps"][7]
    assert step["status"] == "error"
    cleanup = cleanup_of(report)
    assert list(cleanup) == CLEANUP_ORDER
    # Closing an expired session succeeds again; its handles went with it, so the
    # restore could not run and the report says so.
    assert cleanup["close-session"] == "passed"
    assert cleanup["restore"] == "failed"
    assert read_values(sim, FREE) == {FREE: 5}


def test_command_latency_past_the_step_timeout(
    sim: SimProcess,
    no_leaked_sessions: None,
    live_run: Callable[..., LiveRun],
    tmp_path: Path,
    artifacts: Artifacts,
) -> None:
    slow_write = "- write: {item: free, value: 9, within: 300ms}\n  timeout: 300ms\n"
    run = start_waiting(live_run, sim, tmp_path, "latency", more=slow_write)
    session = session_of(sim, "latency")
    set_latency(sim, session, 2)
    set_value(sim, FREE, 1000, "int32")  # step 8 passes; step 9's write meets the latency
    run.wait_for_line("09 write")
    set_latency(sim, session, 0)
    result = run.finish()

    assert result.code == 1, result.output
    report = check_artifacts("latency", result, tmp_path, artifacts)
    step = report["scenarios"][0]["steps"][8]
    assert step["status"] == "failed"
    assert "timed out" in step["message"]
    assert step["duration"] < 2
    assert_everything_released(report, sim)


def test_write_completion_that_never_comes(
    sim: SimProcess, no_leaked_sessions: None, tmp_path: Path, artifacts: Artifacts
) -> None:
    control(sim, "DropWriteCompletions", cpb.DropWriteCompletionsRequest(enabled=True))
    path = scenario_file(
        tmp_path,
        "case.yaml",
        waiting_scenario("no-completion", cleanup="1s", write_extra=", within: 500ms"),
    )
    result = run_case(path, *sim_args(sim), *report_args(tmp_path))

    assert result.code == 1, result.output
    report = check_artifacts("no-completion", result, tmp_path, artifacts)
    step = report["scenarios"][0]["steps"][6]
    assert step["status"] == "failed"
    assert "completion" in step["message"]
    cleanup = cleanup_of(report)
    assert list(cleanup) == CLEANUP_ORDER
    # The restore was written (writes still apply) but its completion never came either.
    assert cleanup["restore"] == "failed"
    assert {cleanup[a] for a in CLEANUP_ORDER[1:]} == {"passed"}
    assert read_values(sim, FREE) == {FREE: 0}


# --- signals ------------------------------------------------------------------------------

SIGNALS = [(signal.SIGINT, 130), (signal.SIGTERM, 143)]


def _check_interrupted(
    result: CliResult,
    folder: Path,
    artifacts: Artifacts,
    case: str,
    signum: signal.Signals,
    status: str = "interrupted",
) -> dict[str, Any]:
    report = check_artifacts(case, result, folder, artifacts)
    assert report["interrupted-by"] == signum.name
    assert report["scenarios"][0]["status"] == status
    assert f"interrupted by {signum.name}" in result.stdout
    return report


@pytest.mark.parametrize(("signum", "code"), SIGNALS)
def test_signal_during_a_command(
    sim: SimProcess,
    no_leaked_sessions: None,
    live_run: Callable[..., LiveRun],
    tmp_path: Path,
    artifacts: Artifacts,
    signum: signal.Signals,
    code: int,
) -> None:
    run = start_waiting(
        live_run, sim, tmp_path, f"cmd-{signum.name}", more="- write: {item: free, value: 6}\n"
    )
    session = session_of(sim, f"cmd-{signum.name}")
    set_latency(sim, session, 2)
    set_value(sim, FREE, 1000, "int32")
    run.wait_for_line("08 expect-event")  # step 9's write is now waiting on the latency
    run.signal(signum)
    set_latency(sim, session, 0)
    result = run.finish()

    assert result.code == code, result.output
    report = _check_interrupted(result, tmp_path, artifacts, f"cmd-{signum.name}", signum)
    step = report["scenarios"][0]["steps"][8]
    assert (step["kind"], step["status"]) == ("write", "interrupted")
    assert_everything_released(report, sim)


@pytest.mark.parametrize(("signum", "code"), SIGNALS)
def test_signal_during_an_event_wait(
    sim: SimProcess,
    no_leaked_sessions: None,
    live_run: Callable[..., LiveRun],
    tmp_path: Path,
    artifacts: Artifacts,
    signum: signal.Signals,
    code: int,
) -> None:
    run = start_waiting(live_run, sim, tmp_path, f"wait-{signum.name}")
    run.signal(signum)
    result = run.finish()

    assert result.code == code, result.output
    report = _check_interrupted(result, tmp_path, artifacts, f"wait-{signum.name}", signum)
    step = report["scenarios"][0]["steps"][7]
    assert (step["kind"], step["status"]) == ("expect-event", "interrupted")
    assert_everything_released(report, sim)


@pytest.mark.parametrize(("signum", "code"), SIGNALS)
def test_signal_during_cleanup_lets_the_cleanup_finish(
    sim: SimProcess,
    no_leaked_sessions: None,
    live_run: Callable[..., LiveRun],
    tmp_path: Path,
    artifacts: Artifacts,
    signum: signal.Signals,
    code: int,
) -> None:
    run = start_waiting(live_run, sim, tmp_path, f"cleanup-{signum.name}")
    session = session_of(sim, f"cleanup-{signum.name}")
    set_latency(sim, session, 1)
    set_value(sim, FREE, 1000, "int32")  # the last step passes: the cleanup starts, slowly
    run.wait_for_line("08 expect-event")
    run.signal(signum)
    set_latency(sim, session, 0)
    result = run.finish()

    assert result.code == code, result.output
    # Every step had passed: the scenario stays passed, the run's exit says it was signalled.
    report = _check_interrupted(
        result, tmp_path, artifacts, f"cleanup-{signum.name}", signum, "passed"
    )
    assert [s["status"] for s in report["scenarios"][0]["steps"]] == ["passed"] * 8
    assert_everything_released(report, sim)


def test_sighup_cleans_up_like_sigterm(
    sim: SimProcess,
    no_leaked_sessions: None,
    live_run: Callable[..., LiveRun],
    tmp_path: Path,
    artifacts: Artifacts,
) -> None:
    run = start_waiting(live_run, sim, tmp_path, "hangup")
    session = session_of(sim, "hangup")
    run.signal(signal.SIGHUP)
    result = run.finish()
    try:
        assert result.code == 129, result.output
        report = check_artifacts("hangup", result, tmp_path, artifacts)
        assert set(cleanup_of(report).values()) == {"passed"}
        assert read_values(sim, FREE) == {FREE: 0}
    finally:
        if session in [s.session_id for s in sim.list_sessions(ADMIN_KEY)]:
            control(sim, "ExpireSession", cpb.SessionSelector(session_id=session))


def test_second_sigint_during_cleanup_abandons_it_and_says_what_was_left(
    sim: SimProcess,
    no_leaked_sessions: None,
    live_run: Callable[..., LiveRun],
    tmp_path: Path,
    artifacts: Artifacts,
) -> None:
    run = start_waiting(live_run, sim, tmp_path, "twice")
    session = session_of(sim, "twice")
    set_latency(sim, session, 3)
    run.signal(signal.SIGINT)
    run.wait_for_line("08 expect-event")  # the steps stopped; the cleanup's restore is slow
    run.signal(signal.SIGINT)
    result = run.finish()

    assert result.code == 130, result.output
    report = _check_interrupted(result, tmp_path, artifacts, "twice", signal.SIGINT)
    scenario = report["scenarios"][0]
    assert list(cleanup_of(report)) == CLEANUP_ORDER
    assert set(cleanup_of(report).values()) == {"interrupted"}
    assert "left open: restore free = 0, unadvise free" in scenario["message"]
    assert "close-session" in scenario["message"]
    # What the report says was left open is still open; the lease would close it.
    assert [s.session_id for s in sim.list_sessions(ADMIN_KEY)] == [session]
    control(sim, "ExpireSession", cpb.SessionSelector(session_id=session))


def test_second_sigterm_does_not_abandon_the_cleanup(
    sim: SimProcess,
    no_leaked_sessions: None,
    live_run: Callable[..., LiveRun],
    tmp_path: Path,
    artifacts: Artifacts,
) -> None:
    run = start_waiting(live_run, sim, tmp_path, "term-twice")
    session = session_of(sim, "term-twice")
    set_latency(sim, session, 1)
    run.signal(signal.SIGTERM)
    run.wait_for_line("08 expect-event")
    run.signal(signal.SIGTERM)
    set_latency(sim, session, 0)
    result = run.finish()

    assert result.code == 143, result.output
    report = _check_interrupted(result, tmp_path, artifacts, "term-twice", signal.SIGTERM)
    assert set(cleanup_of(report).values()) == {"passed"}
    assert read_values(sim, FREE) == {FREE: 0}


# --- reports that cannot be written -------------------------------------------------------


@pytest.mark.parametrize("where", ["under a file", "a folder"])
def test_unwritable_report_path_is_refused_before_anything_runs(
    sim: SimProcess, no_leaked_sessions: None, tmp_path: Path, artifacts: Artifacts, where: str
) -> None:
    blocker = tmp_path / "existing"
    if where == "a folder":
        blocker.mkdir()
        target = blocker
    else:
        blocker.write_text("a file where the report's folder should be\n", encoding="utf-8")
        target = blocker / "report.json"
    junit = tmp_path / "report.xml"
    result = run_case(
        SMOKE, *sim_args(sim), "--report-json", str(target), "--report-junit", str(junit)
    )

    assert result.code == 2, result.output
    check_artifacts(f"unwritable-{where}", result, tmp_path, artifacts, reports=False)
    assert str(target) in result.stderr
    assert "nothing was run" in result.stderr
    assert "Traceback" not in result.output
    # Nothing was written, nothing was damaged, no session was opened.
    assert [p.name for p in tmp_path.iterdir()] == ["existing"]
    if where == "under a file":
        assert blocker.read_text(encoding="utf-8").startswith("a file where")
    assert "session" not in result.stdout


@pytest.mark.parametrize("clash", ["the scenario file", "the vars file", "the other report"])
def test_a_report_path_that_would_overwrite_an_input_or_another_report_is_refused(
    sim: SimProcess, no_leaked_sessions: None, tmp_path: Path, clash: str
) -> None:
    scenario = tmp_path / "smoke.yaml"
    scenario.write_bytes(SMOKE.read_bytes())
    variables = tmp_path / "vars.yaml"
    variables.write_text("unused: 1\n", encoding="utf-8")
    junit = tmp_path / "report.xml"
    target = {"the scenario file": scenario, "the vars file": variables}.get(clash, junit)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    result = run_case(
        scenario,
        *sim_args(sim),
        "--vars-file",
        variables,
        "--report-json",
        target,
        "--report-junit",
        junit,
    )
    assert result.code == 2, result.output
    assert str(target) in result.stderr
    assert "nothing was run" in result.stderr
    # Every input is intact and nothing was written.
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_disk_full_while_writing_reports_leaves_no_partial_file(
    sim: SimProcess, no_leaked_sessions: None, tmp_path: Path, artifacts: Artifacts
) -> None:
    # RLIMIT_FSIZE makes every write past 512 bytes fail with EFBIG, as a full disk would.
    import resource
    import subprocess

    from e2e.support import MXGW_RUN, env_with

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (512, 512))

    done = subprocess.run(
        [MXGW_RUN, str(SMOKE), *sim_args(sim), *report_args(tmp_path)],
        capture_output=True,
        text=True,
        env=env_with(SECRET_ENV),
        timeout=60,
        preexec_fn=limit_file_size,
        check=False,
    )
    result = CliResult(done.returncode, done.stdout, done.stderr)

    assert result.code == 2, result.output
    check_artifacts("disk-full", result, tmp_path, artifacts, reports=False)
    assert "--report-json" in result.stderr
    assert "cannot write" in result.stderr
    assert "Traceback" not in result.output
    # No partial report and no temporary file is left behind.
    assert list(tmp_path.iterdir()) == []


# --- faults that must not spread ---------------------------------------------------------


def test_sigint_while_connecting_to_a_silent_gateway_stops_at_once(
    live_run: Callable[..., LiveRun], tmp_path: Path, artifacts: Artifacts
) -> None:
    # A "gateway" that accepts TCP connections and never answers: the runner hangs in the
    # HTTP/2 handshake until its 60 s connect timeout, unless a signal stops it.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent.settimeout(30)
        endpoint = f"127.0.0.1:{silent.getsockname()[1]}"
        run = live_run(
            SMOKE,
            "--endpoint",
            endpoint,
            "--plaintext",
            "--connect-timeout",
            "60",
            *report_args(tmp_path),
        )
        connection, _ = silent.accept()  # the runner is connecting now
        with connection:
            started = time.monotonic()
            run.signal(signal.SIGINT)
            result = run.finish(timeout=30)
    assert result.code == 130, result.output
    assert time.monotonic() - started < 10  # not the 60 s connect timeout
    report = check_artifacts("connect-sigint", result, tmp_path, artifacts)
    assert report["interrupted-by"] == "SIGINT"
    assert report["scenarios"][0]["status"] in {"interrupted", "skipped"}


def test_a_silent_gateway_fails_after_the_connect_timeout(
    tmp_path: Path, artifacts: Artifacts
) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        started = time.monotonic()
        result = run_case(
            SMOKE,
            "--endpoint",
            f"127.0.0.1:{silent.getsockname()[1]}",
            "--plaintext",
            "--connect-timeout",
            "1",
            *report_args(tmp_path),
        )
        elapsed = time.monotonic() - started
    assert result.code == 3, result.output
    assert elapsed < 8
    report = check_artifacts("silent", result, tmp_path, artifacts)
    assert report["scenarios"][0]["status"] == "error"
    assert "1 s" in report["scenarios"][0]["message"] or "1 s" in result.output


def test_a_faulted_scenario_does_not_spoil_the_next(
    sim: SimProcess,
    no_leaked_sessions: None,
    live_run: Callable[..., LiveRun],
    tmp_path: Path,
    artifacts: Artifacts,
) -> None:
    path = scenario_file(tmp_path, "a-case.yaml", waiting_scenario("spoil"))
    run = live_run(path, SMOKE, *sim_args(sim), *report_args(tmp_path))
    run.wait_for_line("07 write")
    control(sim, "KillWorker", cpb.SessionSelector(session_id=session_of(sim, "spoil")))
    result = run.finish()

    assert result.code == 3, result.output
    report = check_artifacts("spoil", result, tmp_path, artifacts)
    assert [s["status"] for s in report["scenarios"]] == ["error", "passed"]
    assert cleanup_of(report)["close-session"] == "passed"


def test_console_reader_gone_mid_run_changes_nothing_else(
    sim: SimProcess, no_leaked_sessions: None, tmp_path: Path, artifacts: Artifacts
) -> None:
    """``mxgw-run scenarios/ | head -1``: the reader leaves; every scenario still runs and
    cleans up, the reports are complete, the exit code is the run's, and no traceback."""
    import os
    import subprocess

    from e2e.support import MXGW_RUN, env_with

    path = scenario_file(
        tmp_path,
        "case.yaml",
        waiting_scenario("pipe").replace("{value: 1000}, within: 60s", "{value: 5}"),
    )
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will ever read the console
    try:
        done = subprocess.run(
            [MXGW_RUN, str(SMOKE), str(path), *sim_args(sim), *report_args(tmp_path)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=env_with(SECRET_ENV),
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    result = CliResult(done.returncode, "", done.stderr.decode("utf-8", "replace"))
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "Broken pipe" not in result.stderr
    report = check_artifacts("pipe", result, tmp_path, artifacts)
    assert [s["status"] for s in report["scenarios"]] == ["passed", "passed"]
    assert set(cleanup_of(report, 1).values()) == {"passed"}
    assert read_values(sim, FREE) == {FREE: 0}


def test_runner_killed_leaves_no_partial_report(
    sim: SimProcess,
    no_leaked_sessions: None,
    live_run: Callable[..., LiveRun],
    tmp_path: Path,
) -> None:
    """SIGKILL cannot be handled: no cleanup runs and no report is written — but never a
    half-written one that a CI job could take for a result."""
    run = start_waiting(live_run, sim, tmp_path, "sigkill")
    session = session_of(sim, "sigkill")
    run.signal(signal.SIGKILL)
    result = run.finish()
    assert result.code == -signal.SIGKILL
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.yaml"]
    # The session is the gateway's to expire (its lease); here the test expires it.
    assert [s.session_id for s in sim.list_sessions(ADMIN_KEY)] == [session]
    control(sim, "ExpireSession", cpb.SessionSelector(session_id=session))


def test_gateway_restarted_mid_scenario_fails_clearly_without_hanging(
    sim_factory: Callable[..., SimProcess],
    live_run: Callable[..., LiveRun],
    tmp_path: Path,
    artifacts: Artifacts,
) -> None:
    """The gateway comes back on the same address, without the runner's session: the runner
    must say so (not wait forever, not open a stray session) and leave nothing open."""
    sim = sim_factory()
    run = start_waiting(live_run, sim, tmp_path, "restarted")
    endpoint = sim.endpoint
    sim.process.kill()
    sim.process.wait()
    again = sim_factory("--listen", endpoint)
    result = run.finish()

    assert result.code == 3, result.output
    report = check_artifacts("restarted", result, tmp_path, artifacts)
    scenario = report["scenarios"][0]
    assert scenario["status"] == "error"
    assert "event stream lost" in scenario["steps"][7]["message"]
    assert list(cleanup_of(report)) == CLEANUP_ORDER
    assert all(c["status"] in {"passed", "failed"} for c in scenario["cleanup"])
    assert again.wait_for_sessions(0, ADMIN_KEY) == []
