"""Checks made on loaded scenarios before anything runs, each located at its step.

Things the schema cannot know: steps this version cannot run, writes under
``--read-only``, and passwords whose environment variable is not set (better
refused before the first write than discovered halfway through).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from mxgw_runner.cli.plan import writes_of

if TYPE_CHECKING:
    from mxgw_runner.model import Scenario, Step
    from mxgw_runner.steptypes import StepRegistry


def _at(step: Step, message: str) -> str:
    where = f"{step.location.file}:{step.line}:{step.column}"
    return f"{where}: step {step.index} {step.kind}: {message}"


def preflight(
    scenarios: Sequence[Scenario],
    registry: StepRegistry,
    *,
    read_only: bool,
    need_passwords: bool,
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """Every problem found, as ``file:line:column: step N kind: message`` lines."""
    env = os.environ if env is None else env
    problems: list[str] = []
    for scenario in scenarios:
        for step in scenario.walk():
            step_type = registry.get(step.kind)
            if step_type is not None and step_type.run is None:
                problems.append(_at(step, "not supported by this version of mxgw-run"))
            if need_passwords and step.kind == "authenticate":
                name = step.params.get("password-env")
                if isinstance(name, str) and "${" not in name and not env.get(name):
                    problems.append(
                        _at(step, f"password-env: the environment variable {name} is not set")
                    )
        if read_only:
            problems.extend(
                _at(step, "--read-only refuses scenarios that write")
                for step, _ in writes_of(scenario)
            )
    return problems
