"""``--var`` mistakes a new user makes, and what they are told."""

from __future__ import annotations

import pytest

from mxgw_runner.errors import ScenarioError
from mxgw_runner.loader import parse_cli_vars


def _message(text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_cli_vars([text])
    (d,) = info.value.diagnostics
    return f"{d.file}: {d.message}"


def test_a_forgotten_equals_sign_shows_the_form_to_type() -> None:
    # it said "--var: --var expects name=value, got 'setpoint'=...", as if '=' were there
    assert _message("setpoint") == "--var: 'setpoint': expected name=value (like setpoint=40)"


def test_a_bad_name_says_what_a_name_may_hold() -> None:
    message = _message("1x=2")
    assert message.startswith("--var: '1x'=...: a variable name is a letter or _")
    assert "2" not in message.split("...", 1)[1]  # the value is not echoed


def test_good_assignments_still_parse() -> None:
    assert parse_cli_vars(["setpoint=40", "site=North plant"]) == {
        "setpoint": 40,
        "site": "North plant",
    }
