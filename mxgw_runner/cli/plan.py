"""``--plan``: the steps of each scenario and every write it would make."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from mxgw_runner.model import Scenario


def writes_of(scenario: Scenario) -> list[tuple[Any, str]]:
    """Every write step of a scenario and a one-line description of what it writes."""
    from mxgw_runner.loader import resolve_step_params

    references: dict[str, str] = {}
    out = []
    for step in scenario.walk():
        if step.kind == "add-item":
            item = str(step.params.get("item"))
            references[str(step.params.get("as") or item)] = item
        if step.kind != "write":
            continue
        try:
            params = resolve_step_params(step, scenario.vars, env={})
        except Exception:
            params = dict(step.params)
        item = str(params.get("item"))
        target = references.get(item, item)
        text = f"{target} <- {params.get('value')!r}"
        details = []
        if params.get("type"):
            details.append(f"type {params['type']}")
        if params.get("verifier") is not None:
            details.append(
                f"WriteSecured as {params.get('user')}, verified by {params['verifier']}"
            )
        elif params.get("user") is not None:
            details.append(f"as {params['user']}")
        if params.get("timestamp") is not None:
            details.append(f"timestamp {params['timestamp']}")
        if params.get("restore"):
            details.append("restored at cleanup")
        if details:
            text += f" ({'; '.join(details)})"
        out.append((step, text))
    return out


def _title(step: Any) -> str:
    """A step's title; rows are counted, not listed (a CSV may hold thousands)."""
    if step.kind == "confirm" and not step.name:
        return str(step.params.get("prompt", ""))
    rows = step.params.get("items") if step.kind in ("for-each", "check-items") else None
    if (step.name and "$" not in step.name) or not isinstance(rows, list):
        return str(step.title)
    source = f" of {step.source.name}" if step.source is not None else ""
    return f"{len(rows)} row{'s' if len(rows) != 1 else ''}{source}"


def confirms_of(scenario: Scenario) -> list[tuple[Any, str]]:
    """Every ``confirm`` step (nested ones included) and its question, as written."""
    return [
        (step, str(step.params.get("prompt"))) for step in scenario.walk() if step.kind == "confirm"
    ]


def confirm_lines(scenario: Scenario, indent: str = "    ") -> list[str]:
    """``file:line: question`` for each confirm, secret values masked."""
    from mxgw_runner.redact import Redactor

    mask = Redactor(scenario.secret_values).text
    return [
        f"{indent}{step.location.file}:{step.line}: {mask(prompt)}"
        for step, prompt in confirms_of(scenario)
    ]


def print_plan(scenarios: Sequence[Scenario], out: TextIO) -> None:
    """The steps of each scenario and every write it would make (secret values masked)."""
    from mxgw_runner.redact import Redactor

    for scenario in scenarios:
        mask = Redactor(scenario.secret_values).text
        out.write(f"{scenario.path} — {scenario.name}\n")
        for step in scenario.steps:
            title = _title(step)
            title = f" {title}" if title else ""
            out.write(f"  {step.index:02d} {step.kind}{title}  (line {step.line})\n")
        writes = writes_of(scenario)
        out.write(f"  writes: {len(writes)}\n")
        for step, text in writes:
            out.write(f"    {step.location.file}:{step.line}: {mask(text)}\n")
        confirms = confirm_lines(scenario)
        if confirms:
            out.write(f"  confirms (questions for the operator): {len(confirms)}\n")
            out.writelines(f"{line}\n" for line in confirms)
