"""Step titles as the console, reports and ``--plan`` show them before (or without) a run."""

from __future__ import annotations

from mxgw_runner.loader import load_scenario

from .conftest import WriteFile

SCENARIO = """\
steps:
  - name: "${tag.check}"
    for-each:
      csv: tags.csv
      as: tag
      steps: [{add-item: "${tag.tag}"}]
  - confirm: Does the local panel show AUTO mode?
  - check-items: {csv: tags.csv, item: "${row.tag}", quality: good}
  - name: diagnostics
    check-items: {csv: tags.csv, item: "${row.tag}", quality: good}
"""


def test_row_steps_are_titled_by_their_rows_not_an_unresolved_template(write: WriteFile) -> None:
    """A skipped check-items was reported as '${row.tag}' in the console and every report."""
    write("tags.csv", "tag,check\nPump101.Mode,mode\nPump101.Running,running\n")
    steps = load_scenario(write("t.yaml", SCENARIO)).steps
    assert [step.title for step in steps] == [
        "2 rows of tags.csv",
        "Does the local panel show AUTO mode?",
        "2 rows of tags.csv",
        "diagnostics",
    ]
