"""``mxgw-run --shard I/N`` through the real executable: the shards of a directory cover
every scenario exactly once, the split is the same on every run, and an empty shard
passes with a message (so a CI matrix wider than the suite stays green)."""

from __future__ import annotations

from pathlib import Path

from .support import run_cli, scenario_file

#: Seven scenarios that need no gateway: the run never connects.
NAMES = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"]


def _suite(folder: Path) -> Path:
    for name in NAMES:
        scenario_file(folder, f"{name}.yaml", f"name: {name}\nsteps:\n  - wait: 1ms\n")
    return folder


def _shard(folder: Path, spec: str, report: Path, *extra: str) -> list[str]:
    result = run_cli(folder, "--shard", spec, *extra, report=report)
    assert result.code == 0, result.output
    assert result.report is not None
    return [s["name"] for s in result.report["scenarios"]]


def test_shards_cover_the_directory_once_and_are_stable(tmp_path: Path) -> None:
    folder = _suite(tmp_path / "suite")
    shards = [_shard(folder, f"{i}/3", tmp_path / f"r{i}.json") for i in (1, 2, 3)]

    assert sorted(name for shard in shards for name in shard) == NAMES  # once each
    assert all(shard for shard in shards)
    assert max(map(len, shards)) - min(map(len, shards)) <= 1
    # The same command gives the same shard, also when the files are named in another order.
    again = _shard(folder, "2/3", tmp_path / "again.json")
    assert again == shards[1]
    reordered = [folder / f"{name}.yaml" for name in reversed(NAMES)]
    result = run_cli(*reordered, "--shard", "2/3", report=tmp_path / "reordered.json")
    assert result.report is not None
    assert sorted(s["name"] for s in result.report["scenarios"]) == sorted(shards[1])


def test_shard_applies_after_tag_filtering(tmp_path: Path) -> None:
    folder = tmp_path / "suite"
    for n, name in enumerate(NAMES):
        tags = "[smoke]" if n % 2 == 0 else "[slow]"
        text = f"name: {name}\ntags: {tags}\nsteps:\n  - wait: 1ms\n"
        scenario_file(folder, f"{name}.yaml", text)
    shards = [_shard(folder, f"{i}/2", tmp_path / f"r{i}.json", "--tag", "smoke") for i in (1, 2)]
    assert sorted(shards[0] + shards[1]) == ["alpha", "charlie", "echo", "golf"]
    assert len(shards[0]) == len(shards[1]) == 2


def test_an_empty_shard_passes_and_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "suite"
    scenario_file(folder, "only.yaml", "name: only\nsteps:\n  - wait: 1ms\n")
    result = run_cli(folder, "--shard", "2/2", report=tmp_path / "r.json")

    assert result.code == 0, result.output
    assert "--shard 2/2: none of the 1 selected scenario(s) falls in this shard" in result.stderr
    assert result.report is not None and result.report["scenarios"] == []
    assert result.stdout.splitlines()[-1] == "0 scenarios: 0 passed (exit code 0)"


def test_plan_shows_only_the_shard(tmp_path: Path) -> None:
    folder = _suite(tmp_path / "suite")
    planned = set()
    for i in (1, 2):
        result = run_cli(folder, "--shard", f"{i}/2", "--plan")
        assert result.code == 0, result.output
        names = {name for name in NAMES if f"{name}.yaml" in result.stdout}
        assert names and not names & planned
        planned |= names
    assert planned == set(NAMES)
