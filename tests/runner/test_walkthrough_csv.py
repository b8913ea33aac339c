"""Checklist CSV files as a spreadsheet exports them, mistakes included: located, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from mxgw_runner.errors import ScenarioError
from mxgw_runner.loader import load_scenario

from .conftest import WriteFile

SCENARIO = "steps:\n  - for-each: {csv: tags.csv, steps: [{add-item: '${row.tag}'}]}\n"


def _messages(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [d.message for d in info.value.diagnostics]


def test_a_quote_left_open_is_an_error_not_one_giant_cell(write: WriteFile) -> None:
    """Without this the rest of the file became one item name and the run passed."""
    write("tags.csv", 'tag,expected\nPump101.Speed.PV,1\n"Pump101.Mode,2\nPump102.Mode,3\n')
    (message,) = _messages(write("t.yaml", SCENARIO))
    assert "'tags.csv' line 4" in message
    assert 'quoted cell (") is still open' in message


def test_semicolon_separated_export_says_so(write: WriteFile) -> None:
    """A spreadsheet in a comma-decimal locale exports ``;``: say that, not 'no column tag'."""
    write("tags.csv", "tag;expected\nPump101.Speed.PV;1\n")
    (message,) = _messages(write("t.yaml", SCENARIO))
    assert "'tags.csv' line 1" in message
    assert "separated by commas, not semicolons" in message


def test_a_quoted_cell_with_a_comma_still_loads(write: WriteFile) -> None:
    write("tags.csv", 'tag,note\nPump101.Speed.PV,"speed, measured"\n')
    scenario = load_scenario(write("t.yaml", SCENARIO))
    (loop,) = scenario.steps
    assert loop.params["items"] == [{"tag": "Pump101.Speed.PV", "note": "speed, measured"}]
