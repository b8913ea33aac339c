"""Built-in steps, registered through the same ``mxgw_register_steps`` hook as plugins.

The step *schemas* live here; the hook pairs each with its run callable from
:mod:`mxgw_runner.steps.runs` (one module per step or small group). Steps this
version cannot run yet keep ``run=None`` (none at present).
"""

from __future__ import annotations

from typing import Any

from mxgw_runner.hookspecs import hookimpl
from mxgw_runner.schema import DATA_TYPE_NAMES, EVENT_KIND_KEYS
from mxgw_runner.steptypes import StepType


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


def _obj(
    properties: dict[str, Any], required: list[str] | None = None, *, nullable: bool = False
) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": ["object", "null"] if nullable else "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


_ITEMS: dict[str, Any] = {
    "anyOf": [
        _ref("item-ref"),
        {"type": "array", "items": _ref("item-ref"), "minItems": 1},
    ],
    "errorMessage": "must be an item alias or a list of them",
}

_EVENT_KINDS: dict[str, Any] = {key: _ref(defn) for key, defn in EVENT_KIND_KEYS.items()}
_ONE_KIND_MESSAGE = "needs exactly one of " + ", ".join(EVENT_KIND_KEYS)

_SAVE = {**_ref("identifier"), "description": "Save the observed value into this variable."}

#: The rows of ``for-each`` and ``check-items``: a list or a CSV file, bound to ``as:``.
_ROWS: dict[str, Any] = {
    "items": {
        "anyOf": [{"type": "array"}, _ref("var-ref")],
        "description": "Rows: scalars or mappings (${row.column}).",
    },
    "csv": {"type": "string", "minLength": 1, "description": "CSV file with a header row."},
    "as": _ref("identifier"),
}
_ONE_ROW_SOURCE: dict[str, Any] = {
    "oneOf": [{"required": ["items"]}, {"required": ["csv"]}],
    "errorMessage": "needs exactly one of items, csv",
}

BUILTIN_STEPS: tuple[StepType, ...] = (
    StepType(
        "open-session",
        _obj({"client-session-name": {"type": "string"}}, nullable=True),
        description="Open a gateway session and its event stream; cleanup closes it.",
    ),
    StepType(
        "register",
        _obj({"client-name": {"type": "string", "minLength": 1}}, nullable=True),
        description="MXAccess Register (client-name defaults to mxgw-run); cleanup unregisters.",
    ),
    StepType(
        "add-item",
        {
            "anyOf": [
                {"type": "string", "minLength": 1},
                _obj(
                    {
                        "item": {"type": "string", "minLength": 1},
                        "as": {
                            "anyOf": [_ref("identifier"), _ref("var-ref")],
                            "description": "The item's name in later steps; in a for-each "
                            "it may come from the row (${row.name}).",
                        },
                        "context": {"type": "string"},
                    },
                    ["item"],
                ),
            ],
            "errorMessage": "must be an item reference or {item, as, context}",
        },
        description="AddItem (AddItem2 with context:); as: names it for later steps.",
        shorthand="item",
    ),
    StepType(
        "advise",
        {
            "anyOf": [
                _ref("item-ref"),
                {"type": "array", "items": _ref("item-ref"), "minItems": 1},
                _obj({"items": _ITEMS, "supervisory": _ref("boolean")}, ["items"]),
            ],
            "errorMessage": "must be an item, a list of items, or {items, supervisory}",
        },
        description="Advise one item or a list (supervisory: true → AdviseSupervisory).",
        shorthand="items",
    ),
    StepType(
        "authenticate",
        _obj(
            {
                "user": {"type": "string", "minLength": 1},
                "password-env": {
                    "type": "string",
                    "minLength": 1,
                    "description": "Environment variable holding the password (never in the file).",
                },
                "as": _ref("identifier"),
            },
            ["user", "password-env"],
        ),
        description="AuthenticateUser; fails when the user id is 0.",
    ),
    StepType(
        "write",
        _obj(
            {
                "item": _ref("item-ref"),
                "value": {"description": "The value to write (YAML type, or type:)."},
                "type": {"enum": list(DATA_TYPE_NAMES)},
                "timestamp": {"type": "string", "description": "Write2: the value's timestamp."},
                "user": {"type": "string", "description": "WriteSecured: authenticated user."},
                "verifier": {"type": "string", "description": "WriteSecured: verifying user."},
                "expect": _ref("status"),
                "wait": _ref("boolean"),
                "within": _ref("duration"),
                "restore": _ref("boolean"),
            },
            ["item", "value"],
        ),
        description="Write and wait for the write completion (expect: a status, default ok).",
    ),
    StepType(
        "expect-event",
        {
            **_obj(
                {
                    "item": _ref("item-ref"),
                    **_EVENT_KINDS,
                    "within": _ref("duration"),
                    "mode": {"enum": ["eventually", "next"]},
                    "count": _ref("positive-integer"),
                    "since": {"enum": ["cursor", "last-write"]},
                    "save": _SAVE,
                },
                ["item"],
            ),
            "oneOf": [{"required": [key]} for key in EVENT_KIND_KEYS],
            "errorMessage": _ONE_KIND_MESSAGE,
        },
        description="Wait up to within: for an event of the item that matches.",
    ),
    StepType(
        "expect-no-event",
        {
            **_obj(
                {"item": _ref("item-ref"), **_EVENT_KINDS, "for": _ref("duration")}, ["item", "for"]
            ),
            "not": {
                "anyOf": [
                    {"required": [a, b]} for a in EVENT_KIND_KEYS for b in EVENT_KIND_KEYS if a < b
                ]
            },
            "errorMessage": "takes at most one of " + ", ".join(EVENT_KIND_KEYS),
        },
        description="Pass when no matching event of the item arrives for: a duration.",
    ),
    StepType(
        "read",
        {
            "anyOf": [
                _ref("item-ref"),
                _obj(
                    {
                        "item": _ref("item-ref"),
                        "save": _SAVE,
                        "value": _ref("value"),
                        "quality": _ref("quality"),
                        "status": _ref("status"),
                        "timestamp": _ref("timestamp"),
                    },
                    ["item"],
                ),
            ],
            "errorMessage": "must be an item or {item, save, value, quality, status, timestamp}",
        },
        description="The item's current value (advises for the moment if needed); save: it.",
        shorthand="item",
    ),
    StepType(
        "unadvise",
        {
            "anyOf": [
                _ref("item-ref"),
                {"type": "array", "items": _ref("item-ref"), "minItems": 1},
                _obj({"items": _ITEMS}, ["items"]),
            ],
            "errorMessage": "must be an item, a list of items, or {items}",
        },
        description="UnAdvise; removes the matching cleanup entry.",
        shorthand="items",
    ),
    StepType(
        "remove-item",
        {
            "anyOf": [_ref("item-ref"), _obj({"item": _ref("item-ref")}, ["item"])],
            "errorMessage": "must be an item or {item}",
        },
        description="RemoveItem; removes the matching cleanup entry.",
        shorthand="item",
    ),
    StepType(
        "unregister",
        _obj({}, nullable=True),
        description="Unregister; removes the matching cleanup entry.",
    ),
    StepType(
        "close-session",
        _obj({}, nullable=True),
        description="Close the session; removes the matching cleanup entry.",
    ),
    StepType(
        "wait",
        {
            "anyOf": [_ref("duration"), _obj({"for": _ref("duration")}, ["for"])],
            "errorMessage": "must be a duration such as 2s, or {for: 2s}",
        },
        description="Sleep for a duration.",
        shorthand="for",
    ),
    StepType(
        "for-each",
        {
            **_obj({**_ROWS, "steps": _ref("steps")}, ["steps"]),
            **_ONE_ROW_SOURCE,
        },
        description="Run nested steps once per row of items: or csv:, binding as: (default row).",
        nested="steps",
    ),
    StepType(
        "include",
        {
            "anyOf": [
                {"type": "string", "minLength": 1},
                _obj({"file": {"type": "string", "minLength": 1}, "vars": _ref("vars")}, ["file"]),
            ],
            "errorMessage": "must be a file name or {file, vars}",
        },
        description="Run another scenario file's steps, with vars:.",
        shorthand="file",
    ),
    StepType(
        "confirm",
        {
            "anyOf": [
                {"type": "string", "minLength": 1},
                _obj({"prompt": {"type": "string", "minLength": 1}}, ["prompt"]),
            ],
            "errorMessage": "must be a question, or {prompt}",
        },
        description="A manual checkpoint an operator answers on the terminal.",
        shorthand="prompt",
    ),
    StepType(
        "check-items",
        {
            **_obj(
                {
                    **_ROWS,
                    "item": {
                        "type": "string",
                        "minLength": 1,
                        "description": "Each row's item reference, e.g. ${row.tag}.",
                    },
                    "alias": {
                        "type": "string",
                        "description": "Each row's name for the item (default: the reference).",
                    },
                    "value": {
                        "description": "What each first data change's value must match "
                        "(as expect-event's value:; may use ${row.column})."
                    },
                    "quality": {
                        "description": "What each first data change's quality must match "
                        "(as expect-event's quality:)."
                    },
                    "within": _ref("duration"),
                },
                ["item"],
            ),
            **_ONE_ROW_SOURCE,
        },
        description="Bulk checklist: add, advise and check the first data change of each "
        "row's item in a few round trips; each item is a check.",
    ),
)


@hookimpl
def mxgw_register_steps() -> list[StepType]:
    """Register the built-in steps with their run callables."""
    from mxgw_runner.steps.runs import with_runs

    return with_runs(BUILTIN_STEPS)
