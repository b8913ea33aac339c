"""Loading scenarios: every user mistake is located, all are reported at once, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from mxgw_runner.errors import Diagnostic, ScenarioError
from mxgw_runner.loader import check_scenario, load_scenario, parse_cli_vars, resolve_step_params
from mxgw_runner.model import Step
from mxgw_runner.variables import UNKNOWN

from .conftest import WriteFile

PUMP = """
version: 1
name: Pump 101 setpoint write and read-back
description: Commissioning check CK-014, area A.
tags: [commissioning, area-a]
metadata: {checklist: CK-014, site: North plant}
vars:
  setpoint: 42.5
timeouts: {step: 10s, scenario: 2m, cleanup: 30s}
steps:
  - open-session: {client-session-name: ck-014}
  - register: {client-name: mxgw-run}
  - add-item: {item: Pump101.Speed.SP, as: sp}
  - add-item: {item: Pump101.Speed.PV, as: pv}
  - advise: [sp, pv]
  - expect-event: {item: sp, data-change: {quality: good}}
  - write: {item: sp, value: "${setpoint}", restore: true}
  - expect-event:
      item: pv
      data-change: {value: {approx: "${setpoint}", tolerance: 0.5}, quality: good}
      within: 30s
  - close-session: {}
"""


def diagnostics(path: Path, **kwargs: object) -> list[Diagnostic]:
    scenario, found = check_scenario(path, env={}, **kwargs)  # type: ignore[arg-type]
    assert (scenario is None) == bool(found)
    return found


def where(d: Diagnostic) -> tuple[int | None, int | None]:
    return d.line, d.column


def test_valid_scenario_loads_into_the_model(write: WriteFile) -> None:
    s = load_scenario(write("pump.yaml", PUMP), env={})
    assert s.name == "Pump 101 setpoint write and read-back"
    assert s.tags == ("commissioning", "area-a")
    assert s.metadata == {"checklist": "CK-014", "site": "North plant"}
    assert (s.timeouts.step, s.timeouts.scenario, s.timeouts.cleanup) == (10.0, 120.0, 30.0)
    assert [st.kind for st in s.steps][:5] == [
        "open-session",
        "register",
        "add-item",
        "add-item",
        "advise",
    ]
    advise = s.steps[4]
    assert advise.params == {"items": ["sp", "pv"]}  # shorthand normalised
    assert (advise.line, advise.column) == (14, 5)
    write_step = s.steps[6]
    assert write_step.params["value"] == "${setpoint}"  # late binding: templates kept
    assert write_step.location_of("/value").line == 16
    assert s.steps[7].location_of("/data-change/value/tolerance").column == 63
    assert s.vars == {"setpoint": 42.5}


def test_typo_in_step_name_is_one_error_with_a_suggestion(write: WriteFile) -> None:
    path = write(
        "t.yaml",
        """
        steps:
          - open-session: {}
          - expect-evnt: {item: sp, data-change: {}}
        """,
    )
    found = diagnostics(path)
    assert len(found) == 1
    assert where(found[0]) == (3, 5)
    assert found[0].message == "unknown step 'expect-evnt' — did you mean 'expect-event'?"
    assert found[0].path == "steps[1].expect-evnt"


def test_every_problem_is_reported_at_once_with_line_and_column(write: WriteFile) -> None:
    path = write(
        "t.yaml",
        """
        steps:
          - write: {item: sp, valu: 3}
          - expect-event:
              item: pv
              data-change: {value: {aprox: 1}, quality: goood}
              withn: 3s
          - wait: soon
          - close-session:
            timout: 5s
        """,
    )
    found = diagnostics(path)
    got = [(d.line, d.column, d.message) for d in found]
    assert (2, 23, "unknown key 'valu' — did you mean 'value'?") in got
    assert (2, 12, "missing required key 'value'") in got
    assert (5, 29, "unknown key 'aprox' — did you mean 'approx'?") in got
    assert any(line == 5 and col == 49 and "did you mean 'good'?" in msg for line, col, msg in got)
    assert (6, 7, "unknown key 'withn' — did you mean 'within'?") in got
    assert any(line == 7 and col == 11 and "duration" in msg for line, col, msg in got)
    assert (9, 5, "unknown key 'timout' — did you mean 'timeout'?") in got
    assert len(found) == 7


def test_expect_event_needs_exactly_one_event_kind(write: WriteFile) -> None:
    path = write("t.yaml", "steps:\n  - expect-event: {item: sp}\n")
    (d,) = diagnostics(path)
    assert d.message.startswith("needs exactly one of data-change, write-complete")
    assert where(d) == (2, 19)


@pytest.mark.parametrize(
    ("text", "line", "message_part"),
    [
        ("", None, "file is empty"),
        ("# only a comment\n", None, "file is empty"),
        ("- a\n- b\n", 1, "must be a mapping"),
        ("steps: [\n", 2, "expected"),
        ("name: x\nname: y\nsteps: []\n", 2, "duplicate key 'name' (first defined at line 1)"),
        ("steps: !!python/object:os.system []\n", 1, "YAML tag"),
        ("steps:\n  - wait: 1s\n\tx: 1\n", 3, "indent with spaces"),
        ("name: x\n", 1, "missing required key 'steps'"),
        ("steps:\n  - 5\n", 2, "a step must be a mapping"),
        ("steps:\n  - {}\n", 2, "step has no step key"),
        ("steps:\n  - {wait: 1s, read: x}\n", 2, "exactly one step key"),
        ("version: 2\nsteps: []\n", 1, "must be 1"),
        ("steps: []\nsurprise: 1\n", 2, "unknown key 'surprise'"),
    ],
)
def test_user_mistakes_are_diagnostics_not_tracebacks(
    write: WriteFile, text: str, line: int | None, message_part: str
) -> None:
    path = write("t.yaml", text)
    found = diagnostics(path)
    assert found, text
    assert any(message_part in d.message for d in found), [d.format() for d in found]
    assert found[0].line == line
    assert found[0].file.endswith("t.yaml")


def test_unreadable_and_missing_files(tmp_path: Path) -> None:
    (d,) = diagnostics(tmp_path / "nope.yaml")
    assert d.message == "file not found" and d.line is None
    (d,) = diagnostics(tmp_path)
    assert "directory" in d.message


def test_non_utf8_bytes_are_located(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: ok\nsteps:\n  - confirm: Pump gepr\xfcft?\n".encode("latin-1"))
    (d,) = diagnostics(path)
    assert "not UTF-8" in d.message
    assert where(d) == (3, 23)


def test_oversized_file_is_refused_without_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (5 * 1024 * 1024 + 1))
    (d,) = diagnostics(path)
    assert "larger than 5 MiB" in d.message


def test_billion_laughs_is_refused(write: WriteFile) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    lines.append("steps: []")
    path = write("lol.yaml", "\n".join(lines) + "\n")
    found = diagnostics(path)
    assert found and "aliases" in found[0].message


def test_unknown_variable_is_an_error_before_the_run(write: WriteFile) -> None:
    path = write(
        "t.yaml",
        """
        vars: {setpoint: 1}
        steps:
          - write: {item: sp, value: "${setpont}"}
          - read: {item: pv, save: before}
          - write: {item: sp, value: "${before}"}
          - write: {item: sp, value: "${after}"}
          - read: {item: pv, save: after}
        """,
    )
    found = diagnostics(path)
    assert [(d.line, d.message) for d in found] == [
        (3, "unknown variable ${setpont} — did you mean 'setpoint'?"),
        (6, "unknown variable ${after} (known variables: before, setpoint)"),
    ]
    assert found[0].column == 30


def test_variable_precedence_cli_over_file_over_vars(write: WriteFile, tmp_path: Path) -> None:
    path = write(
        "t.yaml",
        """
        vars: {a: from-vars, b: from-vars, c: from-vars, d: "${c}-x"}
        steps: [{wait: 1s}]
        """,
    )
    vf = write("vars.yaml", "b: from-file\nc: from-file\n")
    s = load_scenario(path, env={}, vars_files=[vf], cli_vars=parse_cli_vars(["c=42.5"]))
    assert s.vars == {"a": "from-vars", "b": "from-file", "c": 42.5, "d": "42.5-x"}


def test_env_references_and_defaults(write: WriteFile) -> None:
    path = write(
        "t.yaml",
        """
        vars:
          host: "${env:MX_HOST:-localhost}"
          port: "${env:MX_PORT}"
        steps:
          - wait: "${env:MX_WAIT:-1s}"
        """,
    )
    s = load_scenario(path, env={"MX_PORT": "5000"})
    assert s.vars == {"host": "localhost", "port": 5000}
    (d,) = diagnostics(path)
    assert d.message == "environment variable MX_PORT is not set (in ${env:MX_PORT})"
    assert where(d) == (3, 9)


def test_circular_variables_are_reported(write: WriteFile) -> None:
    path = write("t.yaml", 'vars: {a: "${b}", b: "${a}"}\nsteps: []\n')
    found = diagnostics(path)
    assert any("circle" in d.message for d in found)


def test_secret_env_values_are_marked_and_never_in_messages(write: WriteFile) -> None:
    path = write(
        "t.yaml",
        """
        vars:
          password: "${secret-env:OP_PASSWORD}"
          plain: visible
        steps:
          - authenticate: {user: op1, password-env: OP2_PASSWORD}
          - write: {item: sp, value: "${password}"}
        """,
    )
    s = load_scenario(path, env={"OP_PASSWORD": "hunter22", "OP2_PASSWORD": "swordfish"})
    assert s.secret_vars == {"password"}
    assert {"hunter22", "swordfish"} <= s.secret_values
    # late binding error on a secret value: the message must not echo it
    with pytest.raises(ScenarioError) as info:
        resolve_step_params(
            Step(
                kind="wait",
                index=1,
                params={"for": "${password}"},
                location=s.steps[1].location,
            ),
            dict(s.vars),
            env={},
            secrets=set(s.secret_values),
        )
    assert "hunter22" not in str(info.value)


def test_for_each_rows_and_columns_are_checked(write: WriteFile) -> None:
    write("pumps.csv", "tag,setpoint\nPump101.SP,42.5\nPump102.SP,7\n")
    path = write(
        "t.yaml",
        """
        steps:
          - for-each:
              csv: pumps.csv
              as: pump
              steps:
                - write: {item: "${pump.tag}", value: "${pump.setpoint}"}
                - write: {item: "${pump.tga}", value: 1}
        """,
    )
    (d,) = diagnostics(path)
    assert d.message == "${pump.tga}: pump has no column 'tga' — did you mean 'tag'?"
    assert where(d) == (7, 25)


def test_for_each_csv_rows_become_items(write: WriteFile) -> None:
    write("pumps.csv", "tag,setpoint\nPump101.SP,42.5\n\nPump102.SP,7\n")
    path = write(
        "t.yaml",
        """
        steps:
          - for-each:
              csv: pumps.csv
              steps:
                - write: {item: "${row.tag}", value: "${row.setpoint}"}
        """,
    )
    s = load_scenario(path, env={})
    loop = s.steps[0]
    assert loop.params["items"] == [
        {"tag": "Pump101.SP", "setpoint": 42.5},
        {"tag": "Pump102.SP", "setpoint": 7},
    ]
    assert "steps" not in loop.params and "csv" not in loop.params
    assert loop.source is not None and loop.source.name == "pumps.csv"
    assert resolve_step_params(loop, {}, env={})["items"] == loop.params["items"]
    assert [st.kind for st in loop.steps] == ["write"]
    resolved = resolve_step_params(loop.steps[0], {"row": loop.params["items"][0]}, env={})
    assert resolved == {"item": "Pump101.SP", "value": 42.5}


def test_missing_csv_is_located_at_the_csv_key(write: WriteFile) -> None:
    path = write("t.yaml", "steps:\n  - for-each: {csv: none.csv, steps: [{wait: 1s}]}\n")
    (d,) = diagnostics(path)
    assert "none.csv" in d.message and "file not found" in d.message
    assert where(d) == (2, 21)


def test_include_loads_and_checks_the_other_file(write: WriteFile) -> None:
    write(
        "common/open.yaml",
        """
        vars: {client: default-client}
        steps:
          - open-session: {}
          - register: {client-name: "${client}"}
          - add-item: {item: "${tag}"}
        """,
    )
    path = write(
        "main.yaml",
        """
        steps:
          - include: {file: common/open.yaml, vars: {tag: Pump101.SP}}
        """,
    )
    s = load_scenario(path, env={})
    inc = s.steps[0]
    assert [st.kind for st in inc.steps] == ["open-session", "register", "add-item"]
    assert inc.bound_vars == {"client": "default-client"}
    assert inc.steps[1].location.file.endswith("open.yaml")


def test_include_errors_are_located_in_the_included_file(write: WriteFile) -> None:
    write("inc.yaml", "steps:\n  - wiat: 1s\n")
    path = write("main.yaml", "steps:\n  - include: inc.yaml\n")
    found = diagnostics(path)
    assert found[0].file.endswith("inc.yaml") and where(found[0]) == (2, 5)
    assert "did you mean 'wait'" in found[0].message


def test_include_cycle_is_an_error(write: WriteFile) -> None:
    write("a.yaml", "steps:\n  - include: b.yaml\n")
    write("b.yaml", "steps:\n  - include: a.yaml\n")
    found = diagnostics(Path(write("main.yaml", "steps:\n  - include: a.yaml\n")))
    assert any("include cycle" in d.message for d in found)


def test_unquoted_variable_in_flow_mapping_is_read_as_scenarios_md_writes_it(
    write: WriteFile,
) -> None:
    path = write(
        "t.yaml",
        "vars: {sp: 42.5}\nsteps:\n  - write: {item: sp, value: ${sp}, restore: true}\n"
        "  - expect-event: {item: sp, data-change: {value: {approx: ${sp}, tolerance: 0.5}}}\n",
    )
    scenario = load_scenario(path)
    write_step, expect_step = scenario.steps
    assert write_step.params["value"] == "${sp}"
    assert write_step.location.line == 3
    assert expect_step.params["data-change"]["value"] == {"approx": "${sp}", "tolerance": 0.5}


def test_flow_mapping_error_that_quoting_does_not_fix_keeps_the_hint(write: WriteFile) -> None:
    path = write("t.yaml", "steps:\n  - write: {item: sp, value: ${x}z}\n")
    (d,) = diagnostics(path)
    assert "must be quoted" in d.message
    assert d.line == 2


def test_late_binding_revalidates_resolved_values(write: WriteFile) -> None:
    path = write(
        "t.yaml",
        """
        steps:
          - read: {item: pv, save: tol}
          - expect-event:
              item: pv
              data-change: {value: {approx: 1, tolerance: "${tol}"}}
        """,
    )
    s = load_scenario(path, env={})
    step = s.steps[1]
    assert resolve_step_params(step, {"tol": 0.5}, env={})["data-change"]["value"] == {
        "approx": 1,
        "tolerance": 0.5,
    }
    with pytest.raises(ScenarioError) as info:
        resolve_step_params(step, {"tol": "wide"}, env={})
    (d,) = info.value.diagnostics
    assert (d.line, d.column) == (5, 51)
    assert "must be a number" in d.message


def test_save_binding_is_unknown_statically(write: WriteFile) -> None:
    from mxgw_runner import variables as V

    assert V.lookup(V.parse_template("${x.y}")[0], {"x": UNKNOWN}) is UNKNOWN  # type: ignore[arg-type]


def test_bad_cli_var_is_a_usage_error() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_cli_vars(["novalue", "ok=1"])
    assert "name=value" in str(info.value)


def test_saves_inside_for_each_and_include_are_visible_after_them(write: WriteFile) -> None:
    write("inc.yaml", "steps:\n  - read: {item: pv, save: inner}\n")
    path = write(
        "main.yaml",
        """
        steps:
          - for-each:
              items: [a, b]
              steps:
                - read: {item: "${row}", save: last}
          - include: inc.yaml
          - write: {item: sp, value: "${last}"}
          - write: {item: sp, value: "${inner}"}
          - write: {item: sp, value: "${row}"}
        """,
    )
    (d,) = diagnostics(path)
    assert d.line == 9 and d.message.startswith("unknown variable ${row}")


def test_csv_cells_may_use_variables_and_are_checked(write: WriteFile) -> None:
    write("rows.csv", "tag\nPump101.${suffix}\n")
    path = write("t.yaml", "steps:\n  - for-each: {csv: rows.csv, steps: [{wait: 1s}]}\n")
    (d,) = diagnostics(path)
    assert d.message.startswith("CSV file 'rows.csv': unknown variable ${suffix}")
    assert (d.line, d.column) == (2, 21)
