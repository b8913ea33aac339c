"""Checklists through the real ``mxgw-run``: for-each passes, include, the bulk step.

A simulator of its own serves a generated galaxy of many integer attributes, so a
checklist of hundreds of distinct items can run; every test ends with no session
left open on it.
"""

from __future__ import annotations

import json
import re
import signal
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import jsonschema  # type: ignore[import-untyped, unused-ignore]
import pytest

from mxgw_sim.testing import ADMIN_KEY, SimProcess, start_sim

from .support import ROOT, CliResult, LiveRun, run_cli, scenario_file, sim_args

REPORT_SCHEMA = json.loads((ROOT / "schemas" / "report.schema.json").read_text(encoding="utf-8"))
PER_OBJECT = 100
ITEMS = 600


def write_galaxy(path: Path, items: int) -> list[tuple[str, int]]:
    """A galaxy of ``items`` integer attributes ``ObjNNN.ANNN``; (reference, value) each."""
    lines = ["version: 1", "name: Checklist", "areas:", "  - name: Area1", "    objects:"]
    out: list[tuple[str, int]] = []
    for o in range((items + PER_OBJECT - 1) // PER_OBJECT):
        lines += [f"      - name: Obj{o:03d}", "        attributes:"]
        for a in range(min(PER_OBJECT, items - o * PER_OBJECT)):
            value = o * PER_OBJECT + a + 7
            lines.append(f"          - {{name: A{a:03d}, type: integer, value: {value}}}")
            out.append((f"Obj{o:03d}.A{a:03d}", value))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def plant(
    tmp_path_factory: pytest.TempPathFactory, sim_keys_file: Path
) -> Iterator[tuple[SimProcess, list[tuple[str, int]]]]:
    """A simulator serving the generated galaxy, and its attributes."""
    galaxy = tmp_path_factory.mktemp("checklist-galaxy") / "galaxy.yaml"
    attributes = write_galaxy(galaxy, ITEMS)
    process = start_sim(
        "--api-key-file", str(sim_keys_file), "--galaxy", str(galaxy), "--log-level", "WARNING"
    )
    try:
        yield process, attributes
    finally:
        process.close()


@pytest.fixture
def csim(
    plant: tuple[SimProcess, list[tuple[str, int]]],
) -> Iterator[SimProcess]:
    """The checklist simulator; after the test, no session may be left open on it."""
    process = plant[0]
    yield process
    assert process.wait_for_sessions(0, ADMIN_KEY, timeout=10.0) == [], "sessions left open"


def write_csv(path: Path, rows: list[tuple[str, int]]) -> Path:
    """A CSV checklist: columns tag and expected."""
    path.write_text(
        "tag,expected\n" + "".join(f"{tag},{value}\n" for tag, value in rows), encoding="utf-8"
    )
    return path


def session_scenario(directory: Path, name: str, steps: str) -> Path:
    """Write scenario ``name``: open a session, register, then ``steps`` (YAML list items)."""
    body = textwrap.indent(textwrap.dedent(steps).strip("\n"), "  ")
    text = f"steps:\n  - open-session: {{}}\n  - register: {{}}\n{body}\n"
    return scenario_file(directory, name, text)


def run_session_steps(
    csim: SimProcess, tmp_path: Path, name: str, steps: str, *options: str | Path
) -> CliResult:
    """Run a :func:`session_scenario` against the checklist simulator, with a JSON report."""
    path = session_scenario(tmp_path, name, steps)
    return run_cli(path, *sim_args(csim), *options, report=tmp_path / "r.json")


FOR_EACH_CSV = """
    name: commissioning by rows
    metadata: {checklist: CK-200}
    steps:
      - open-session: {}
      - register: {}
      - for-each:
          csv: tags.csv
          steps:
            - add-item: "${row.tag}"
            - advise: "${row.tag}"
            - expect-event:
                item: "${row.tag}"
                data-change: {value: "${row.expected}", quality: good}
                within: 5s
"""


def test_a_200_row_csv_checklist_is_200_checks_in_every_report(
    csim: SimProcess, plant: tuple[SimProcess, list[tuple[str, int]]], tmp_path: Path
) -> None:
    write_csv(tmp_path / "tags.csv", plant[1][:200])
    path = scenario_file(tmp_path, "rows.yaml", FOR_EACH_CSV)
    report, junit, html = tmp_path / "r.json", tmp_path / "r.xml", tmp_path / "r.html"
    result = run_cli(
        path,
        *sim_args(csim),
        "-q",
        "--report-junit",
        junit,
        "--report-html",
        html,
        report=report,
        timeout=120,
    )
    assert result.code == 0, result.output
    data = result.report
    assert data is not None
    jsonschema.validate(data, REPORT_SCHEMA)
    (step,) = [s for s in result.steps() if s["kind"] == "for-each"]
    assert step["group"] is True
    passes = step["steps"]
    assert len(passes) == 200
    assert passes[2]["number"] == "03.3" and passes[2]["name"] == "[3/200] tag=Obj000.A002"
    assert passes[2]["steps"][2]["number"] == "03.3.03"
    assert passes[2]["observed"]["value"] == 9
    # 200 passes plus open-session and register
    assert data["checks"]["passed"] == 202
    assert result.scenario()["checks"]["passed"] == 202

    cases = ET.parse(junit).getroot().iter("testcase")
    names = [c.get("name", "") for c in cases]
    pass_cases = [n for n in names if n.startswith("03 for-each [")]
    assert len(pass_cases) == 200
    assert "03 for-each [200/200] tag=Obj001.A099" in pass_cases

    page = html.read_text(encoding="utf-8")
    assert len(re.findall(r"<strong>for-each</strong> \[\d+/200\]", page)) == 200


INLINE_ONE_WRONG = """
    name: one row is wrong
    steps:
      - open-session: {}
      - register: {}
      - for-each:
          as: pump
          items:
            - {tag: Obj000.A000, expected: 7}
            - {tag: Obj000.A001, expected: 999}
            - {tag: Obj000.A002, expected: 9}
          steps:
            - add-item: "${pump.tag}"
            - advise: "${pump.tag}"
            - expect-event:
                item: "${pump.tag}"
                data-change: {value: "${pump.expected}"}
                within: 300ms
      - wait: 1ms
"""


def test_a_failing_row_fails_only_its_pass_and_is_located(csim: SimProcess, tmp_path: Path) -> None:
    path = scenario_file(tmp_path, "inline.yaml", INLINE_ONE_WRONG)
    junit = tmp_path / "r.xml"
    result = run_cli(path, *sim_args(csim), "--report-junit", junit, report=tmp_path / "r.json")
    assert result.code == 1, result.output
    step = result.steps()[2]
    assert [p["status"] for p in step["steps"]] == ["passed", "failed", "passed"]
    failed = step["steps"][1]
    assert failed["name"] == "[2/3] tag=Obj000.A001"
    assert re.match(r"03\.2\.03 expect-event at \S*inline\.yaml:14: ", failed["message"])
    assert failed["observed"]["value"] == 8
    assert step["status"] == "failed"
    assert step["message"] == "1 of 3 passes failed: [2/3] tag=Obj000.A001"
    assert result.steps()[3]["status"] == "skipped"  # the scenario stops after the step
    assert "inline.yaml:14:" in result.stdout
    failures = [
        c.get("name")
        for c in ET.parse(junit).getroot().iter("testcase")
        if c.find("failure") is not None
    ]
    assert failures == ["03 for-each [2/3] tag=Obj000.A001"]


def test_include_runs_the_other_file_with_its_vars(csim: SimProcess, tmp_path: Path) -> None:
    scenario_file(
        tmp_path,
        "parts/read-one.yaml",
        """
        vars: {tag: Obj000.A000, expected: 7}
        steps:
          - add-item: "${tag}"
          - read: {item: "${tag}", value: "${expected}", save: seen}
        """,
    )
    steps = """
        - include: parts/read-one.yaml
        - include: {file: parts/read-one.yaml, vars: {tag: Obj000.A005, expected: 12}}
        - include: {file: parts/read-one.yaml, vars: {tag: Obj000.A006, expected: 0}}
        """
    result = run_session_steps(csim, tmp_path, "main.yaml", steps)
    assert result.code == 1, result.output
    first, second, third = result.steps()[2:5]
    assert first["status"] == second["status"] == "passed"
    assert [s["number"] for s in second["steps"]] == ["04.01", "04.02"]
    assert second["steps"][1]["observed"]["value"] == 12
    assert second["steps"][1]["file"].endswith("read-one.yaml")
    assert second["steps"][1]["line"] == 4
    assert third["status"] == "failed"
    assert third["message"].startswith("05.02 read at ")
    assert "read-one.yaml:4" in third["message"]
    assert result.report is not None
    assert result.report["checks"]["failed"] == 1  # the include is one check


def test_bulk_checklist_of_500_items_fails_only_the_wrong_item(
    csim: SimProcess, plant: tuple[SimProcess, list[tuple[str, int]]], tmp_path: Path
) -> None:
    rows = list(plant[1][:500])
    rows[41] = (rows[41][0], -1)  # a wrong expectation
    write_csv(tmp_path / "tags.csv", rows)
    steps = """
        - check-items:
            csv: tags.csv
            item: "${row.tag}"
            value: "${row.expected}"
            quality: good
            within: 10s
        - read: Obj000.A000
        """
    junit = tmp_path / "r.xml"
    result = run_session_steps(csim, tmp_path, "bulk.yaml", steps, "-q", "--report-junit", junit)
    assert result.code == 1, result.output
    step = result.steps()[2]
    items = step["steps"]
    assert len(items) == 500
    assert [i["number"] for i in items if i["status"] != "passed"] == ["03.42"]
    wrong = items[41]
    assert wrong["name"] == f"[42/500] {rows[41][0]}"
    assert wrong["observed"]["value"] == 48 and wrong["observed"]["quality"] == 192
    assert wrong["observed"]["timestamp"]
    assert "value 48" in wrong["message"]
    assert step["message"] == f"1 of 500 items failed: [42/500] {rows[41][0]}"
    assert result.report is not None and result.report["checks"]["failed"] == 1
    names = [c.get("name", "") for c in ET.parse(junit).getroot().iter("testcase")]
    assert len([n for n in names if n.startswith("03 check-items [")]) == 500
    # one bulk unadvise and one bulk removal, both passed
    cleanup = result.scenario()["cleanup"]
    assert [c["action"] for c in cleanup[:2]] == ["unadvise", "remove-item"]
    assert all(c["status"] == "passed" for c in cleanup)


def test_bulk_checklist_passes_and_an_unknown_item_fails_its_own_check(
    csim: SimProcess, tmp_path: Path
) -> None:
    steps = """
        - check-items:
            items:
              - {tag: Obj000.A000, name: first}
              - {tag: No.Such.Item, name: missing}
            item: "${row.tag}"
            alias: "${row.name}"
            quality: good
            within: 2s
        - read: {item: first, value: 7}
        """
    result = run_session_steps(csim, tmp_path, "bulk.yaml", steps)
    assert result.code == 1, result.output
    first, missing = result.steps()[2]["steps"]
    assert first["status"] == "passed" and first["name"] == "[1/2] first (Obj000.A000)"
    assert missing["status"] == "failed"
    assert "quality" in missing["message"]


def test_a_bad_bulk_row_is_a_located_scenario_error(csim: SimProcess, tmp_path: Path) -> None:
    steps = """
        - check-items:
            items: [{tag: Obj000.A000}, {tag: Obj000.A000}]
            item: "${row.tag}"
        """
    result = run_session_steps(csim, tmp_path, "bulk.yaml", steps)
    assert result.code == 2, result.output
    assert "row 2 of 2: item 'Obj000.A000' is already row 1" in result.steps()[2]["message"]


def test_a_value_saved_in_a_pass_is_seen_by_later_passes_and_after_the_loop(
    csim: SimProcess, tmp_path: Path
) -> None:
    steps = """
        - for-each:
            items: [Obj000.A003, Obj000.A004]
            steps:
              - add-item: "${row}"
              - read: {item: "${row}", save: last}
        - add-item: Obj000.A011
        - read: {item: Obj000.A011, value: "${last}"}
        """
    result = run_session_steps(csim, tmp_path, "save.yaml", steps)
    assert result.code == 1, result.output  # A011 is 18; the last pass saved A004's 11
    last = result.steps()[-1]
    assert last["status"] == "failed"
    assert last["expected"] == "data-change of Obj000.A011 with value 11"


def test_a_pass_may_name_its_item_from_the_row(csim: SimProcess, tmp_path: Path) -> None:
    steps = """
        - for-each:
            items:
              - {name: first, tag: Obj000.A000}
              - {name: again, tag: Obj000.A000}
              - {name: bad-name!, tag: Obj000.A001}
            steps:
              - add-item: {item: "${row.tag}", as: "${row.name}"}
              - read: {item: "${row.name}", value: 7}
        """
    result = run_session_steps(csim, tmp_path, "alias.yaml", steps)
    assert result.code == 2, result.output  # the third alias is not a name
    passes = result.steps()[2]["steps"]
    assert [p["status"] for p in passes] == ["passed", "passed", "error"]
    assert "after substituting variables" in passes[2]["message"]


def test_ctrl_c_while_items_wait_for_values_records_every_item(
    csim: SimProcess, live_run: Callable[..., LiveRun], tmp_path: Path
) -> None:
    from google.protobuf.duration_pb2 import Duration

    from mxgw_sim.generated import mxgw_sim_control_pb2 as cpb

    steps = """
        - check-items:
            items: [Obj000.A000, Obj000.A001, Obj000.A002]
            item: "${row}"
            within: 60s
        """
    path = session_scenario(tmp_path, "slow.yaml", steps)
    slow = cpb.SetLatencyRequest(event_latency=Duration(seconds=60))
    csim.control("SetLatency", slow, ADMIN_KEY)
    try:
        run = live_run(path, *sim_args(csim), report=tmp_path / "r.json")
        run.wait_for_line("02 register")
        run.signal(signal.SIGINT)
        result = run.finish(timeout=60)
    finally:
        csim.control("SetLatency", cpb.SetLatencyRequest(), ADMIN_KEY)
    assert result.code == 130, result.output
    step = result.steps()[2]
    assert step["status"] == "interrupted"
    assert [i["status"] for i in step["steps"]] == ["interrupted"] * 3
    assert all(i["message"] == "not checked: interrupted" for i in step["steps"])
