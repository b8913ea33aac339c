"""Finding scenario files, loading them all, and choosing which to run."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mxgw_runner.model import Scenario
    from mxgw_runner.steptypes import StepRegistry


def has_steps(path: Path) -> bool:
    """A YAML file is a scenario when it is a mapping with ``steps:`` (or cannot be read).

    Read with the same bounded loader as scenarios (size, depth, aliases), so a hostile
    file in a directory is refused the same way, with a location, by the loader.
    """
    from mxgw_runner.errors import ScenarioError
    from mxgw_runner.yamlsource import read_yaml_file

    try:
        data = read_yaml_file(path).data
    except ScenarioError:
        return True  # let the loader report it with a location
    return isinstance(data, dict) and "steps" in data


def discover(paths: Sequence[str]) -> tuple[list[Path], list[str]]:
    """Scenario files from files and directories (a directory's own files, sorted)."""
    files: list[Path] = []
    problems: list[str] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.suffix in (".yaml", ".yml") and p.is_file() and has_steps(p)
            )
            if not found:
                problems.append(f"{text}: no scenario files (*.yaml, *.yml with steps:)")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(f"{text}: no such file or directory")
    return files, problems


def split_simulate(args: argparse.Namespace) -> None:
    """``--simulate scenario.yaml`` means the default galaxy and one more scenario."""
    value = args.simulate
    if value:
        path = Path(value)
        # a missing file with nothing after it was meant as the scenario: say it is missing,
        # not that no scenario was given
        missing_scenario = not path.exists() and not args.paths
        if path.is_dir() or (path.is_file() and has_steps(path)) or missing_scenario:
            args.paths.insert(0, value)
            args.simulate = ""


def load_all(
    files: Sequence[Path], args: argparse.Namespace, registry: StepRegistry
) -> tuple[list[Scenario], list[str]]:
    """Load every file; return the scenarios and every diagnostic (formatted)."""
    from mxgw_runner.errors import ScenarioError
    from mxgw_runner.loader import check_scenario, parse_cli_vars

    try:
        cli_vars = parse_cli_vars(args.var)
    except ScenarioError as exc:
        return [], [d.format() for d in exc.diagnostics]
    scenarios: list[Scenario] = []
    problems: list[str] = []
    for file in files:
        scenario, diagnostics = check_scenario(
            file, registry=registry, cli_vars=cli_vars, vars_files=args.vars_file
        )
        problems.extend(d.format() for d in diagnostics)
        if scenario is not None:
            scenarios.append(scenario)
    return scenarios, problems


def select(
    scenarios: Sequence[Scenario], tags: Sequence[str], skip: Sequence[str]
) -> list[Scenario]:
    """Apply ``--tag`` (any of) and ``--skip-tag``."""
    out = []
    for s in scenarios:
        if tags and not set(tags) & set(s.tags):
            continue
        if set(skip) & set(s.tags):
            continue
        out.append(s)
    return out




def shard(scenarios: Sequence[Scenario], index: int, count: int) -> list[Scenario]:
    """The ``index``-th (1-based) of ``count`` disjoint parts of ``scenarios`` (``--shard``).

    The scenarios are sorted by path (ties keep their input order) and dealt out in
    turn: the k-th in that order goes to shard ``k % count + 1``. Every machine that
    runs the same command over the same files computes the same split, so shards
    ``1/N`` … ``N/N`` cover every scenario exactly once, and their sizes differ by at
    most one (a hash of the path would keep a file in its shard as files are added,
    but can leave one shard with many and another with none). Each shard runs in
    input order.
    """
    ordered = sorted(range(len(scenarios)), key=lambda i: (str(scenarios[i].path), i))
    mine = {position for k, position in enumerate(ordered) if k % count == index - 1}
    return [s for i, s in enumerate(scenarios) if i in mine]
