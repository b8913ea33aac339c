"""An example mxgw-run plugin: ``tag-out`` and ``expect-steady``.

mxgw-run finds it through the entry point in group ``mxgw_runner`` (see pyproject.toml)
and calls :func:`mxgw_register_steps` once, before any scenario is loaded. Keep this
module cheap to import: it is imported by every ``mxgw-run`` invocation.
"""

from __future__ import annotations

from mxgw_runner.hookspecs import hookimpl
from mxgw_runner.steptypes import StepType

from .steps import run_expect_steady, run_tag_out

#: ``tag-out``'s body: ``equipment`` is required, the rest optional.
TAG_OUT_SCHEMA = {
    "type": "object",
    "properties": {
        "equipment": {"type": "string", "minLength": 1, "description": "Tag name, e.g. Pump101."},
        "reason": {"type": "string", "description": "Why it is tagged (shown in the register)."},
        "register": {
            "type": "string",
            "minLength": 1,
            "description": "Tag register (CSV); default $MXGW_TAG_REGISTER, else tag-register.csv",
        },
    },
    "required": ["equipment"],
    "additionalProperties": False,
}

#: ``expect-steady``'s body; ``duration`` and ``number`` are the runner's shared definitions.
EXPECT_STEADY_SCHEMA = {
    "type": "object",
    "properties": {
        "item": {"$ref": "#/$defs/item-ref"},
        "band": {
            "$ref": "#/$defs/number",
            "description": "Allowed distance from the first reading.",
        },
        "for": {"$ref": "#/$defs/duration", "description": "How long it must hold."},
    },
    "required": ["item", "band", "for"],
    "additionalProperties": False,
}


@hookimpl
def mxgw_register_steps() -> list[StepType]:
    """The steps this plugin adds."""
    return [
        StepType(
            "tag-out",
            TAG_OUT_SCHEMA,
            run_tag_out,
            "Tag equipment as under test in the tag register; cleanup releases the tag.",
        ),
        StepType(
            "expect-steady",
            EXPECT_STEADY_SCHEMA,
            run_expect_steady,
            "Pass when an advised item stays within band: of its first reading for for:.",
        ),
    ]
