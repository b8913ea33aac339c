"""Start-up: ``mxgw-run --version`` and ``mxgw-run --validate`` of 100 scenario files.

Each command runs as a fresh process, alternating with the baseline ``python -c pass`` (the
interpreter's own start), ``--repeat`` times; medians are kept. Goals: ``--version`` < 0.3 s
and ``--validate`` of 100 files < 1 s, wall time. With ``--imports`` it also prints the
slowest imports of ``--validate`` (from ``python -X importtime``), the list to look at
when start-up grows.

Run ``python -m benchmarks.startup [--quick] [--files N] [--repeat R] [--imports]``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import Result, bench_parser, fmt_s, median, print_results

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "scenarios"
RUNNER_MAIN = "import sys; from mxgw_runner.cli import main; sys.exit(main())"


def runner_command() -> list[str]:
    """How a user starts ``mxgw-run``: the console script next to this interpreter, else
    the same import it does."""
    script = Path(sys.executable).parent / "mxgw-run"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", RUNNER_MAIN]


def scenario_dir(target: Path, count: int) -> list[Path]:
    """``count`` scenario files in ``target``: the repository's examples, copied round-robin."""
    sources = sorted(SCENARIOS.glob("*.yaml"))
    if not sources:
        raise RuntimeError(f"no scenario files in {SCENARIOS}")
    files = []
    for n in range(count):
        path = target / f"s{n:03d}-{sources[n % len(sources)].name}"
        shutil.copyfile(sources[n % len(sources)], path)
        files.append(path)
    data = SCENARIOS / "data"  # files the examples include or read (CSV checklists)
    if data.is_dir():
        shutil.copytree(data, target / "data", dirs_exist_ok=True)
    return files


def password_env(paths: list[Path]) -> dict[str, str]:
    """The environment with every ``password-env`` variable the scenarios name set (a
    placeholder: ``--validate`` refuses an ``authenticate`` whose variable is unset)."""
    env = dict(os.environ)
    for path in paths:
        for name in re.findall(r"password-env:\s*([A-Za-z_][A-Za-z0-9_]*)", path.read_text()):
            env.setdefault(name, "benchmark-placeholder")
    return env


def wall(command: list[str], env: dict[str, str] | None = None) -> float:
    """Seconds for one run of ``command`` (output discarded; a failure is an error)."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} exited {done.returncode}: {done.stderr[-500:]}")
    return elapsed


def paired(
    baseline: list[str], subject: list[str], repeat: int, env: dict[str, str] | None = None
) -> tuple[float, float]:
    """Median wall times of baseline and subject run alternately ``repeat`` times."""
    wall(subject, env)  # warm the file cache and .pyc files
    base, ours = [], []
    for _ in range(repeat):
        base.append(wall(baseline, env))
        ours.append(wall(subject, env))
    return median(base), median(ours)


def slowest_imports(
    command_args: list[str], env: dict[str, str], top: int = 12
) -> list[tuple[float, str]]:
    """The ``top`` imports with the largest cumulative time (seconds, module) in a run."""
    env = dict(env, PYTHONPROFILEIMPORTTIME="1")
    done = subprocess.run(
        [sys.executable, "-c", RUNNER_MAIN, *command_args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    rows: list[tuple[float, str]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.removeprefix("import time:").split("|", 2)
        rows.append((int(cumulative) / 1e6, name.strip()))
    rows.sort(reverse=True)
    return rows[:top]


def run(quick: bool = False, files: int | None = None, repeat: int | None = None) -> list[Result]:
    """Measure both commands; returns their table rows."""
    files = files or (5 if quick else 100)
    repeat = repeat or (1 if quick else 9)
    baseline = [sys.executable, "-c", "pass"]
    runner = runner_command()
    results: list[Result] = []
    base, ours = paired(baseline, [*runner, "--version"], repeat)
    results.append(
        Result(
            "start-up: mxgw-run --version",
            f"{fmt_s(base)} python -c pass",
            fmt_s(ours),
            ours / base,
            "< 0.3 s",
            ours < 0.3,
            f"median of {repeat} fresh processes",
        )
    )
    with tempfile.TemporaryDirectory() as tmp:
        paths = scenario_dir(Path(tmp), files)
        env = password_env(paths)
        base, ours = paired(baseline, [*runner, "--validate", *map(str, paths)], repeat, env)
    results.append(
        Result(
            f"start-up: mxgw-run --validate of {files} files",
            f"{fmt_s(base)} python -c pass",
            fmt_s(ours),
            ours / base,
            "< 1 s",
            ours < 1.0,
            f"median of {repeat} fresh processes",
        )
    )
    return results


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = bench_parser(__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument(
        "--imports", action="store_true", help="also list the slowest imports of --validate"
    )
    args = parser.parse_args(argv)
    print_results(run(args.quick, args.files, args.repeat), as_json=args.json)
    if args.imports:
        with tempfile.TemporaryDirectory() as tmp:
            paths = scenario_dir(Path(tmp), args.files or 100)
            print("\nslowest imports of mxgw-run --validate (cumulative):")
            imports = slowest_imports(["--validate", *map(str, paths)], password_env(paths))
            for seconds, name in imports:
                print(f"  {seconds * 1000:8.1f} ms  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
