"""``mxgw-run`` as users call it: options, validation, planning and exit codes.

Every test runs the installed executable; none of them needs a gateway (a run
against a closed port checks exit code 3).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mxgw_runner import __version__
from tests.e2e.support import ROOT, run_cli, scenario_file

SMOKE = ROOT / "scenarios" / "smoke.mxgw.yaml"
WRITE_READBACK = ROOT / "scenarios" / "write-readback.mxgw.yaml"


def test_version_is_fast_and_plain() -> None:
    result = run_cli("--version")
    assert result.code == 0
    assert result.stdout.strip() == f"mxgw-run {__version__}"


@pytest.mark.parametrize("option", ["--version", "--validate", "--plan"])
def test_version_validate_and_plan_do_not_import_grpc(option: str) -> None:
    code = (
        "import sys\n"
        "from mxgw_runner import cli\n"
        "try:\n"
        f"    cli.main([{option!r}, {str(WRITE_READBACK)!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('GRPC' if 'grpc' in sys.modules else 'NO-GRPC')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.stdout.strip().endswith("NO-GRPC"), done.stdout + done.stderr


def test_validate_checks_without_connecting() -> None:
    result = run_cli(SMOKE, WRITE_READBACK, "--validate", "--endpoint", "127.0.0.1:1")
    assert result.code == 0, result.output
    assert "ok  " in result.stdout
    assert "smoke.mxgw.yaml" in result.stdout and "write-readback.mxgw.yaml" in result.stdout


def test_schema_error_is_located_by_line_and_column(tmp_path: Path) -> None:
    path = scenario_file(
        tmp_path,
        "bad.yaml",
        """
        steps:
          - open-session: {}
          - write: {item: sp, value: 1, wait: maybe}
        """,
    )
    result = run_cli(path, "--validate")
    assert result.code == 2
    assert f"{path.name}:3:" in result.stderr
    assert "wait" in result.stderr
    assert "Traceback" not in result.output


def test_yaml_syntax_error_is_located(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, "broken.yaml", "steps:\n  - open-session: {\n")
    result = run_cli(path)
    assert result.code == 2
    assert "broken.yaml:" in result.stderr
    assert "nothing was run" in result.stderr


def test_unknown_step_is_located_with_a_suggestion(tmp_path: Path) -> None:
    path = scenario_file(
        tmp_path,
        "typo.yaml",
        """
        steps:
          - open-session: {}
          - advice: [a]
        """,
    )
    result = run_cli(path, "--endpoint", "127.0.0.1:1")
    assert result.code == 2
    assert "typo.yaml:3:5" in result.stderr
    assert "advise" in result.stderr


def test_unknown_variable_is_an_error_before_anything_runs(tmp_path: Path) -> None:
    path = scenario_file(
        tmp_path,
        "vars.yaml",
        """
        steps:
          - open-session: {}
          - register: {client-name: "${nobody}"}
        """,
    )
    result = run_cli(path, "--endpoint", "127.0.0.1:1")
    assert result.code == 2
    assert "vars.yaml:3:" in result.stderr
    assert "nobody" in result.stderr


def test_plan_lists_every_write_with_variables_resolved() -> None:
    result = run_cli(WRITE_READBACK, "--plan", "--var", "command=40")
    assert result.code == 0, result.output
    assert "writes: 1" in result.stdout
    assert "Valve12.Cmd <- 40 (restored at cleanup)" in result.stdout
    assert "07 write" in result.stdout


def test_read_only_refuses_scenarios_that_write() -> None:
    result = run_cli(WRITE_READBACK, "--read-only", "--endpoint", "127.0.0.1:1")
    assert result.code == 2
    assert "write-readback.mxgw.yaml:" in result.stderr
    assert "--read-only" in result.stderr


def test_read_only_accepts_scenarios_that_do_not_write() -> None:
    result = run_cli(SMOKE, "--read-only", "--validate")
    assert result.code == 0, result.output


def test_directories_run_their_scenarios_in_name_order(tmp_path: Path) -> None:
    body = "steps:\n  - wait: 1ms\n"
    scenario_file(tmp_path, "b.yaml", "name: second\n" + body)
    scenario_file(tmp_path, "a.yml", "name: first\n" + body)
    scenario_file(tmp_path, "galaxy.yaml", "version: 1\nareas: []\n")  # not a scenario
    result = run_cli(tmp_path, "--validate")
    assert result.code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("ok")]
    assert len(lines) == 2
    assert "first" in lines[0] and "second" in lines[1]


def test_tags_select_scenarios(tmp_path: Path) -> None:
    scenario_file(tmp_path, "a.yaml", "name: tagged\ntags: [fast]\nsteps:\n  - wait: 1ms\n")
    scenario_file(tmp_path, "b.yaml", "name: other\ntags: [slow]\nsteps:\n  - wait: 1ms\n")
    only = run_cli(tmp_path, "--plan", "--tag", "fast")
    assert "tagged" in only.stdout and "other" not in only.stdout
    skipped = run_cli(tmp_path, "--plan", "--skip-tag", "fast")
    assert "other" in skipped.stdout and "tagged" not in skipped.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no/such/file.yaml"], "no such file or directory"),
        ([str(SMOKE), "--var", "not an assignment"], "--var"),
        ([str(SMOKE), "--api-key-env", "MXGW_SURELY_UNSET_VARIABLE"], "MXGW_SURELY_UNSET_VARIABLE"),
        ([str(SMOKE), "--endpoint", "no-port"], "--endpoint"),
        ([str(SMOKE), "--report-json", "/no/such/dir/r.json"], "report file"),
        ([str(SMOKE), "--bogus"], "unrecognized option(s): --bogus"),
    ],
)
def test_usage_errors_exit_2_with_a_clear_message(args: list[str], message: str) -> None:
    result = run_cli(*args)
    assert result.code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_unreachable_gateway_exits_3_and_still_writes_reports(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = run_cli(
        SMOKE, "--endpoint", "127.0.0.1:1", "--connect-timeout", "0.5", report=report
    )
    assert result.code == 3, result.output
    assert "cannot connect" in result.stdout
    assert result.scenario()["status"] == "error"


def test_for_each_runs_its_steps_once_per_row(tmp_path: Path) -> None:
    path = scenario_file(
        tmp_path,
        "rows.yaml",
        """
        steps:
          - for-each:
              items: [1, 2]
              steps:
                - wait: 1ms
        """,
    )
    result = run_cli(path, report=tmp_path / "report.json")
    assert result.code == 0, result.output
    (step,) = result.scenario()["steps"]
    assert [p["name"] for p in step["steps"]] == ["[1/2] 1", "[2/2] 2"]


def test_an_invalid_simulator_galaxy_is_located(tmp_path: Path) -> None:
    galaxy = scenario_file(
        tmp_path,
        "galaxy.yaml",
        """
        version: 1
        name: broken
        areas: [{name: A, objects: [{name: O, attributes: [{name: X, type: nonsense}]}]}]
        """,
    )
    result = run_cli(SMOKE, "--simulate", galaxy)
    assert result.code == 2, result.output
    assert "galaxy.yaml:3:" in result.stderr
    assert "Traceback" not in result.output


def test_vars_file_and_var_set_what_a_plan_writes(tmp_path: Path) -> None:
    values = scenario_file(tmp_path, "site.yaml", "command: 12.5\n")
    from_file = run_cli(WRITE_READBACK, "--plan", "--vars-file", values)
    assert "Valve12.Cmd <- 12.5" in from_file.stdout, from_file.output
    overridden = run_cli(WRITE_READBACK, "--plan", "--vars-file", values, "--var", "command=7")
    assert "Valve12.Cmd <- 7 " in overridden.stdout, overridden.output


def test_a_password_variable_that_is_not_set_is_refused_before_anything_runs() -> None:
    secured = ROOT / "scenarios" / "secured-write.mxgw.yaml"
    result = run_cli(
        secured, "--validate", env={"MXGW_OPERATOR_PASSWORD": "", "MXGW_SUPERVISOR_PASSWORD": ""}
    )
    assert result.code == 2
    assert "secured-write.mxgw.yaml:14:5: step 3 authenticate: password-env" in result.stderr
    assert "MXGW_OPERATOR_PASSWORD is not set" in result.stderr
    planned = run_cli(secured, "--plan", env={"MXGW_OPERATOR_PASSWORD": ""})
    assert planned.code == 0, planned.output


PLUGIN = '''
from pathlib import Path

from mxgw_runner.hookspecs import hookimpl
from mxgw_runner.steptypes import StepOutcome, StepType


async def _stamp(ctx):
    return StepOutcome(observed_value=ctx.params["label"], message="stamped")


class LinesWriter:
    name = "lines"
    description = "one line per step"

    def write(self, run, path, redactor):
        lines = [f"{s.kind} {s.status}" for sc in run.scenarios for s in sc.steps]
        Path(path).write_text("\\n".join(lines) + "\\n")


@hookimpl
def mxgw_register_steps():
    schema = {"type": "object", "properties": {"label": {"type": "string"}},
              "required": ["label"], "additionalProperties": False}
    return [StepType("stamp", schema, _stamp, "Stamp a label.")]


@hookimpl
def mxgw_report_writers():
    return [LinesWriter()]
'''


def test_plugin_module_adds_a_step_and_a_report_writer(tmp_path: Path) -> None:
    (tmp_path / "stampplugin.py").write_text(PLUGIN, encoding="utf-8")
    path = scenario_file(tmp_path, "uses.yaml", "steps:\n  - stamp: {label: x}\n  - wait: 1ms\n")
    lines = tmp_path / "lines.txt"
    result = run_cli(
        path, "--plugin", "stampplugin", "--report-lines", lines, env={"PYTHONPATH": str(tmp_path)}
    )
    assert result.code == 0, result.output
    assert lines.read_text() == "stamp passed\nwait passed\n"
    unknown = run_cli(path, "--plugin", "no_such_plugin_module")
    assert unknown.code == 2
    assert "no_such_plugin_module" in unknown.stderr


def test_quiet_shows_only_failures_and_the_summary(tmp_path: Path) -> None:
    passing = scenario_file(tmp_path, "a.yaml", "name: fine\nsteps:\n  - wait: 1ms\n")
    failing = scenario_file(
        tmp_path,
        "b.yaml",
        "name: broken\ntimeouts: {scenario: 100ms}\nsteps:\n  - wait: 1ms\n  - wait: 5s\n",
    )
    result = run_cli(passing, failing, "--quiet")
    assert result.code == 1, result.output
    assert "fine" not in result.stdout
    assert "broken" in result.stdout and "02 wait" in result.stdout
    assert "01 wait" not in result.stdout
    assert result.stdout.splitlines()[-1] == "2 scenarios: 1 passed, 1 failed (exit code 1)"


def test_simulate_before_the_scenario_takes_it_as_the_scenario() -> None:
    # `--simulate` takes an optional galaxy file; a scenario right after it is a scenario.
    result = run_cli("--simulate", str(SMOKE), "--quiet")
    assert result.code == 0, result.output
    assert "1 passed" in result.stdout


def test_no_scenario_is_a_usage_error() -> None:
    result = run_cli("--simulate")
    assert result.code == 2
    assert "SCENARIO_OR_DIR" in result.stderr
