"""``for-each``, ``include`` and ``confirm``: the steps that make a scenario a checklist.

``for-each`` runs its nested steps once per row, each pass its own check; a failed
pass does not stop the next one, so every row gets its verdict. ``include`` runs
another file's steps as one check. ``confirm`` asks the operator.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from mxgw_runner import variables as V
from mxgw_runner.engine.context import NestedStop, engine_context
from mxgw_runner.engine.state import StepUsageError
from mxgw_runner.errors import StepFailed
from mxgw_runner.steptypes import StepContext, StepOutcome

#: Passes named in a for-each's failure message before "and N more".
NAMED_FAILURES = 5
#: Longest row description in a pass's name.
ROW_TEXT = 60


def row_text(row: Any) -> str:
    """A short description of a row: its first column as ``name=value``, or the scalar."""
    if isinstance(row, Mapping):
        if not row:
            return "(empty row)"
        key, value = next(iter(row.items()))
        text = f"{key}={V.format_value(value)}"
    else:
        text = V.format_value(row)
    return text if len(text) <= ROW_TEXT else text[: ROW_TEXT - 1] + "…"


def rows_of(params: Mapping[str, Any]) -> list[Any]:
    """The rows of ``items:`` (the loader put a CSV file's rows there)."""
    rows = params.get("items")
    if not isinstance(rows, list):
        raise StepUsageError("items: must be a list of rows")
    return rows


async def run_for_each(ctx: StepContext) -> StepOutcome:
    """Run the nested steps once per row; fail listing the rows whose pass failed."""
    rc = engine_context(ctx)
    rows = rows_of(ctx.params)
    as_name = str(ctx.params.get("as") or "row")
    steps = ctx.step.steps
    total = len(rows)
    name_rows(rc, total)
    failed: list[str] = []
    done = 0
    try:
        for number, row in enumerate(rows, start=1):
            label = f"[{number}/{total}] {_pass_title(rc, as_name, row)}"
            done = number
            if not await ctx.run_steps(steps, {as_name: row}, label=label):
                failed.append(label)
    except (asyncio.CancelledError, NestedStop) as exc:
        # The rows not reached stay in the record, as not checked.
        if isinstance(exc, NestedStop):
            why = "an error"
        else:
            why = "interrupted" if rc.interrupted else "out of time"
        rest = [
            f"[{n}/{total}] {_pass_title(rc, as_name, row)}"
            for n, row in enumerate(rows[done:], start=done + 1)
        ]
        rc.skip_passes(rest, f"not run: the for-each stopped ({why} in pass {done})")
        raise
    if failed:
        named = ", ".join(failed[:NAMED_FAILURES])
        more = len(failed) - NAMED_FAILURES
        if more > 0:
            named += f" and {more} more"
        raise StepFailed(f"{len(failed)} of {total} passes failed: {named}")
    return StepOutcome(message=f"{total} pass{'es' if total != 1 else ''}, all passed")


def name_rows(rc: Any, total: int) -> None:
    """Without a ``name:``, title the step by its rows (``200 rows of tags.csv``)."""
    result = rc.result
    name = rc.step.name
    if result is None or (name and "$" not in name):
        return
    source = rc.step.source
    result.name = f"{total} row{'s' if total != 1 else ''}" + (
        f" of {source.name}" if source is not None else ""
    )


def _pass_title(rc: Any, as_name: str, row: Any) -> str:
    """The step's ``name:`` resolved with the row (``check ${row.tag}``), else the row."""
    name = rc.step.name
    if isinstance(name, str) and "$" in name:
        try:
            return str(rc.resolve(name, {as_name: row}))
        except V.VariableError:
            pass
    return row_text(row)


async def run_include(ctx: StepContext) -> StepOutcome | None:
    """Run the included file's steps with its variables and the include's ``vars:``."""
    include_vars = ctx.params.get("vars") or {}
    if not isinstance(include_vars, Mapping):
        raise StepUsageError("vars: must be a mapping of variable names to values")
    variables = {**ctx.step.bound_vars, **include_vars}
    if await ctx.run_steps(ctx.step.steps, variables, label=""):
        return StepOutcome(message=f"{len(ctx.step.steps)} included step(s) passed")
    where, failed = engine_context(ctx).nested_failure()
    raise StepFailed(
        where or "an included step did not pass",
        expected=failed.expected if failed is not None else None,
    )


async def run_confirm(ctx: StepContext) -> StepOutcome:
    """Ask the operator; yes passes, no fails."""
    prompt = str(ctx.params["prompt"])
    result = engine_context(ctx).result
    if result is not None and not ctx.step.name:
        result.name = prompt
    if not await ctx.confirm(prompt):
        raise StepFailed("operator answered no", expected="yes")
    return StepOutcome(expected="yes")
