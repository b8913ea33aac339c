"""Plugins through the real ``mxgw-run``: --print-schema, --list-steps and every way a
plugin can fail (one line naming the plugin, exit 2)."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import jsonschema
from e2e.support import MXGW_RUN, ROOT, run_with_plugins

STEP_PLUGIN = """
from mxgw_runner.hookspecs import hookimpl
from mxgw_runner.steptypes import StepType


@hookimpl
def mxgw_register_steps():
    return [
        StepType(
            "log-shift",
            {
                "type": "object",
                "properties": {"text": {"type": "string"}, "after": {"$ref": "#/$defs/duration"}},
                "required": ["text"],
                "additionalProperties": False,
            },
            description="Write a line to the shift log.\\nSecond line not listed.",
        )
    ]
"""


def run(
    *args: str | Path, plugin_dir: Path | None = None, autoload: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run mxgw-run with ``plugin_dir`` importable (and holding any dist-info there)."""
    env: dict[str, str] = {}
    if plugin_dir is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(plugin_dir), os.environ.get("PYTHONPATH", "")])
    if not autoload:
        env["MXGW_RUN_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return run_with_plugins([MXGW_RUN, *args], cwd=ROOT, env=env)


def module(directory: Path, name: str, text: str) -> str:
    (directory / f"{name}.py").write_text(textwrap.dedent(text), encoding="utf-8")
    return name


def installed(directory: Path, dist: str, entry_point: str, target: str) -> None:
    """A minimal installed distribution in ``directory`` with an ``mxgw_runner`` entry point."""
    info = directory / f"{dist.replace('-', '_')}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        f"[mxgw_runner]\n{entry_point} = {target}\n", encoding="utf-8"
    )


def test_print_schema_without_plugins_is_the_published_schema_byte_for_byte() -> None:
    done = run("--print-schema", autoload=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (ROOT / "schemas" / "scenario.schema.json").read_text(encoding="utf-8")


def test_print_schema_merges_plugin_fragments_deterministically(tmp_path: Path) -> None:
    name = module(tmp_path, "mxgw_test_shiftlog", STEP_PLUGIN)
    first = run("--print-schema", "--plugin", name, plugin_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout == run("--print-schema", "--plugin", name, plugin_dir=tmp_path).stdout
    schema = json.loads(first.stdout)
    assert list(schema) == sorted(schema)
    assert schema["$defs"]["step-log-shift"]["required"] == ["text"]
    # The installed simulator plugin's steps are there too (entry point mxgw-sim).
    assert "step-sim-set-quality" in schema["$defs"]
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"steps": [{"log-shift": {"text": "pump 101 checked"}}]})
    assert not validator.is_valid({"steps": [{"log-shift": {"after": "2s"}}]})


def test_list_steps_names_each_source_in_aligned_columns(tmp_path: Path) -> None:
    name = module(tmp_path, "mxgw_test_shiftlog", STEP_PLUGIN)
    done = run("--list-steps", "--plugin", name, plugin_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    rows = {line.split()[0]: line for line in lines[1:]}
    assert lines[0].split() == ["step", "source", "description"]
    assert rows["write"].split()[1] == "builtin"
    assert "mxgw-sim (mxgw " in rows["sim-latency"]
    assert "mxgw_sim.runner_plugin" in rows["sim-latency"]
    assert f"{name} (--plugin)" in rows["log-shift"]
    assert rows["log-shift"].endswith("Write a line to the shift log.")
    source_column = {line.index(line.split()[1], len(line.split()[0])) for line in lines}
    assert len(source_column) == 1, "sources are not aligned"


def test_a_plugin_that_cannot_be_imported_is_named(tmp_path: Path) -> None:
    broken = module(tmp_path, "mxgw_test_broken", "raise RuntimeError('half-written plugin')\n")
    for argv in (["--plugin", "no_such_mxgw_plugin"], ["--plugin", broken]):
        done = run("--list-steps", *argv, plugin_dir=tmp_path)
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1, done.stderr
        assert f"plugin {argv[1]!r}" in done.stderr
        assert "Traceback" not in done.stderr
    assert (
        "half-written plugin" in run("--list-steps", "--plugin", broken, plugin_dir=tmp_path).stderr
    )


def test_a_plugin_whose_hook_raises_is_named(tmp_path: Path) -> None:
    name = module(
        tmp_path,
        "mxgw_test_raises",
        """
        from mxgw_runner.hookspecs import hookimpl

        @hookimpl
        def mxgw_register_steps():
            raise KeyError("licence")
        """,
    )
    done = run("scenarios", "--validate", "--plugin", name, plugin_dir=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        f"mxgw-run: plugin {name!r} failed in mxgw_register_steps: KeyError: 'licence'\n"
    )


def test_a_clashing_step_name_names_both_owners(tmp_path: Path) -> None:
    name = module(
        tmp_path,
        "mxgw_test_clash",
        """
        from mxgw_runner.hookspecs import hookimpl
        from mxgw_runner.steptypes import StepType

        @hookimpl
        def mxgw_register_steps():
            return [StepType("sim-latency", {"type": "object"})]
        """,
    )
    done = run("--list-steps", "--plugin", name, plugin_dir=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        f"mxgw-run: plugin {name!r} registers step 'sim-latency', "
        "already registered by plugin 'mxgw-sim'\n"
    )


def test_an_installed_plugin_that_fails_to_load_names_its_distribution(tmp_path: Path) -> None:
    module(tmp_path, "mxgw_test_site_plugin", "import no_such_dependency_of_this_plugin\n")
    installed(tmp_path, "acme-mxgw-steps", "acme", "mxgw_test_site_plugin")
    done = run("--list-steps", plugin_dir=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(
        "mxgw-run: plugin 'acme' (entry point 'mxgw_test_site_plugin' from acme-mxgw-steps) "
        "could not be loaded: ModuleNotFoundError"
    ), done.stderr
    assert done.stderr.count("\n") == 1
    # Installed plugins can be turned off: then the run does not even try it.
    assert run("--list-steps", plugin_dir=tmp_path, autoload=False).returncode == 0


def test_an_installed_plugin_lists_with_its_distribution(tmp_path: Path) -> None:
    module(tmp_path, "mxgw_test_site_steps", STEP_PLUGIN)
    installed(tmp_path, "acme-mxgw-steps", "acme", "mxgw_test_site_steps")
    done = run("--list-steps", plugin_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if line.startswith("log-shift "))
    assert "acme (acme-mxgw-steps 1.2.3: mxgw_test_site_steps)" in row


def test_invalid_use_of_a_plugin_step_is_located(tmp_path: Path) -> None:
    name = module(tmp_path, "mxgw_test_shiftlog", STEP_PLUGIN)
    scenario = tmp_path / "shift.yaml"
    scenario.write_text("steps:\n  - wait: 1s\n  - log-shift: {after: soon}\n", encoding="utf-8")
    done = run(scenario, "--validate", "--plugin", name, plugin_dir=tmp_path)
    assert done.returncode == 2
    assert f"{scenario}:3:16: steps[1].log-shift: missing required key 'text'" in done.stderr
    assert f"{scenario}:3:24: steps[1].log-shift.after:" in done.stderr


REPORT_PLUGIN = """
from pathlib import Path

from mxgw_runner.hookspecs import hookimpl


class CountWriter:
    name = "count"
    description = "one line: scenarios and their outcomes"

    def write(self, run, path, redactor):
        outcomes = [str(s.status.value) for s in run.scenarios]
        Path(path).write_text(f"{len(outcomes)} {' '.join(outcomes)}\\n", encoding="utf-8")


@hookimpl
def mxgw_report_writers():
    return [CountWriter()]
"""


def test_a_report_writer_adds_its_option_and_writes_after_the_run(tmp_path: Path) -> None:
    name = module(tmp_path, "mxgw_test_count_report", REPORT_PLUGIN)
    scenario = tmp_path / "wait.yaml"
    scenario.write_text("steps:\n  - wait: 10ms\n", encoding="utf-8")
    helped = run("--help", "--plugin", name, plugin_dir=tmp_path)
    assert "--report-count FILE" in helped.stdout
    target = tmp_path / "count.txt"
    done = run(scenario, "--plugin", name, "--report-count", target, plugin_dir=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert target.read_text(encoding="utf-8") == "1 passed\n"


def test_a_report_writer_taking_a_builtin_name_or_raising_is_named(tmp_path: Path) -> None:
    clash = module(tmp_path, "mxgw_test_json_again", REPORT_PLUGIN.replace('"count"', '"json"'))
    done = run("--list-steps", "--plugin", clash, plugin_dir=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        f"mxgw-run: plugin {clash!r} adds --report-json, already added by built-in\n"
    )
    raising = module(
        tmp_path,
        "mxgw_test_writer_raises",
        """
        from mxgw_runner.hookspecs import hookimpl

        @hookimpl
        def mxgw_report_writers():
            raise RuntimeError("no licence for the PDF module")
        """,
    )
    done = run("--list-steps", "--plugin", raising, plugin_dir=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        f"mxgw-run: plugin {raising!r} failed in mxgw_report_writers: "
        "RuntimeError: no licence for the PDF module\n"
    )
