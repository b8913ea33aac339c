"""The example third-party plugin, installed with pip into a venv of its own (never into
the venv running the tests): its steps list with their distribution, its fragments are in
the published schema, its scenario passes against --simulate, and a wrong use is located."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from .support import ROOT, run_with_plugins

EXAMPLE = ROOT / "examples" / "mxgw-plugin-example"
RUN = "import sys; from mxgw_runner.cli import main; sys.exit(main())"


@pytest.fixture(scope="session")
def example_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a venv that sees this project's packages and has the example installed.

    The venv reaches the test venv's site-packages through a ``.pth`` line (so mxgw, grpc
    and the editable install resolve) and gets the example built from a copy, so nothing
    is written into the repository. pip runs offline and without build isolation.
    """
    base = tmp_path_factory.mktemp("plugin-venv")
    venv = base / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)],
        check=True,
        timeout=60,
    )
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    Path(purelib, "_mxgw_test_parent.pth").write_text(
        f"import site; site.addsitedir({ours!r})\n", encoding="utf-8"
    )
    source = shutil.copytree(EXAMPLE, base / "src", ignore=shutil.ignore_patterns("build"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return python


def run_example(
    python: Path, *args: str | Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``mxgw-run`` in the example's venv."""
    return run_with_plugins([python, "-c", RUN, *args], cwd=cwd, env=env)


def rows(text: str) -> dict[str, str]:
    return {line.split()[0]: line for line in text.splitlines()[1:]}


def test_the_plugin_is_not_installed_in_the_test_venv() -> None:
    done = subprocess.run(
        [sys.executable, "-c", RUN, "--list-steps"], capture_output=True, text=True, check=True
    )
    assert "tag-out" not in rows(done.stdout)


def test_its_steps_list_with_their_distribution(example_python: Path, tmp_path: Path) -> None:
    done = run_example(example_python, "--list-steps", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    listed = rows(done.stdout)
    source = "mxgw-plugin-example 1.0.0 (mxgw_plugin_example)"
    assert source in listed["tag-out"]
    assert listed["tag-out"].endswith("cleanup releases the tag.")
    assert source in listed["expect-steady"]
    assert "builtin" in listed["write"]


def test_its_fragments_are_in_the_published_schema(example_python: Path, tmp_path: Path) -> None:
    done = run_example(example_python, "--print-schema", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    defs = json.loads(done.stdout)["$defs"]
    assert defs["step-tag-out"]["required"] == ["equipment"]
    assert defs["step-expect-steady"]["properties"]["for"]["$ref"] == "#/$defs/duration"
    titles = [entry["title"] for entry in defs["step"]["oneOf"]]
    assert {"tag-out", "expect-steady", "write", "sim-set-value"} <= set(titles)


def test_its_scenario_passes_and_cleanup_releases_the_tag(
    example_python: Path, tmp_path: Path
) -> None:
    register = tmp_path / "tags.csv"
    done = run_example(
        example_python,
        EXAMPLE / "scenarios",
        "--simulate",
        cwd=tmp_path,
        env={"MXGW_TAG_REGISTER": str(register)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "✓ cleanup release tag Pump101" in done.stdout
    lines = list(csv.reader(register.open(encoding="utf-8")))
    assert [line[1:3] for line in lines] == [["TAGGED", "Pump101"], ["RELEASED", "Pump101"]]
    assert lines[0][3] == "Pump 101 motor current is steady while the pump is tagged out for test"


def test_a_failing_check_still_releases_the_tag(example_python: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "moving.yaml"
    scenario.write_text(
        "steps:\n"
        "  - tag-out: {equipment: Pump101.Motor}\n"
        "  - open-session: {}\n"
        "  - register: {}\n"
        "  - add-item: {item: Pump101.Motor.Temperature, as: temperature}\n"
        "  - advise: temperature\n"
        "  - expect-steady: {item: temperature, band: 0.001, for: 5s}\n",
        encoding="utf-8",
    )
    done = run_example(example_python, scenario, "--simulate", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "temperature moved to " in done.stdout
    register = (tmp_path / "tag-register.csv").read_text(encoding="utf-8")
    assert register.count("TAGGED") == 1 and register.count("RELEASED") == 1


def test_a_missing_required_field_is_located(example_python: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("steps:\n  - tag-out: {reason: test}\n", encoding="utf-8")
    done = run_example(example_python, scenario, "--simulate", cwd=tmp_path)
    assert done.returncode == 2
    located = "bad.yaml:2:14: steps[0].tag-out: missing required key 'equipment'"
    assert located in done.stderr
    assert "nothing was run" in done.stderr
    assert not (tmp_path / "tag-register.csv").exists()
