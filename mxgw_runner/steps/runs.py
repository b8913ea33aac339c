"""The run callables of the built-in steps, by step name.

``mxgw_runner.steps`` pairs each built-in step's schema with its callable from
here, so built-ins reach the registry through the same ``mxgw_register_steps``
hook as plugin steps. Importing this module does not import grpc.
"""

from __future__ import annotations

from collections.abc import Iterable

from mxgw_runner.steps.authenticate import run_authenticate
from mxgw_runner.steps.check_items import run_check_items
from mxgw_runner.steps.connection import run_register, run_unregister
from mxgw_runner.steps.expect import run_expect_event, run_expect_no_event
from mxgw_runner.steps.flow import run_confirm, run_for_each, run_include
from mxgw_runner.steps.items import run_add_item, run_advise, run_remove_item, run_unadvise
from mxgw_runner.steps.read import run_read
from mxgw_runner.steps.session import run_close_session, run_open_session
from mxgw_runner.steps.wait import run_wait
from mxgw_runner.steps.write import run_write
from mxgw_runner.steptypes import StepRun, StepType

RUNS: dict[str, StepRun] = {
    "open-session": run_open_session,
    "register": run_register,
    "add-item": run_add_item,
    "advise": run_advise,
    "authenticate": run_authenticate,
    "write": run_write,
    "expect-event": run_expect_event,
    "expect-no-event": run_expect_no_event,
    "read": run_read,
    "unadvise": run_unadvise,
    "remove-item": run_remove_item,
    "unregister": run_unregister,
    "close-session": run_close_session,
    "wait": run_wait,
    "for-each": run_for_each,
    "include": run_include,
    "confirm": run_confirm,
    "check-items": run_check_items,
}


def with_runs(step_types: Iterable[StepType]) -> list[StepType]:
    """The step types with their run callables filled in (others left as declared)."""
    import dataclasses

    return [
        dataclasses.replace(t, run=RUNS[t.name]) if t.run is None and t.name in RUNS else t
        for t in step_types
    ]
