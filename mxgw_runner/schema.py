"""The scenario JSON schema (draft 2020-12), built from the step registry.

Two flavours come from the same definitions:

* the **published** schema (``scenario.schema.json``) for editors, where each
  entry of ``steps`` is a ``oneOf`` of single-key step objects;
* the **loader** schema, where ``steps`` entries are only "objects": the loader
  then checks each step's key against the registry (one clear "unknown step"
  error with a suggestion) and validates the body against that step's own
  fragment, so users never see a wall of ``oneOf`` noise.

Fragments may use ``{"$ref": "#/$defs/<name>"}`` for any name in :data:`SHARED_DEFS`
and ``#/$defs/steps`` for nested step lists. ``errorMessage`` (an annotation
also understood by YAML editors) gives the text shown when an ``anyOf`` fails.
"""

from __future__ import annotations

import copy
from typing import Any

from mxgw_runner.durations import DURATION_PATTERN
from mxgw_runner.steptypes import StepRegistry

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCENARIO_SCHEMA_ID = "https://mxgw.invalid/schemas/scenario.schema.json"

#: Pattern of a string that is exactly one variable reference; such a string keeps
#: the variable's type, so it is accepted wherever a number or boolean is.
VAR_REF_PATTERN = r"^\$\{[^{}]+\}$"

#: Quality names accepted by the quality matcher: the three classes and named codes.
QUALITY_NAMES: tuple[str, ...] = (
    "good",
    "uncertain",
    "bad",
    "local-override",
    "last-usable-value",
    "sensor-not-accurate",
    "engineering-units-exceeded",
    "sub-normal",
    "configuration-error",
    "not-connected",
    "device-failure",
    "sensor-failure",
    "last-known-value",
    "communication-failure",
    "out-of-service",
    "waiting-for-initial-data",
)

_CATEGORIES = [
    "Unknown",
    "Ok",
    "Pending",
    "Warning",
    "CommunicationError",
    "ConfigurationError",
    "OperationalError",
    "SecurityError",
    "SoftwareError",
    "OtherError",
]
_SOURCES = [
    "Unknown",
    "RequestingLmx",
    "RespondingLmx",
    "RequestingNmx",
    "RespondingNmx",
    "RequestingAutomationObject",
    "RespondingAutomationObject",
]

#: MxDataType names accepted by ``write: {type: ...}``.
DATA_TYPE_NAMES: tuple[str, ...] = (
    "boolean",
    "integer",
    "float",
    "double",
    "string",
    "time",
    "elapsed-time",
    "big-string",
    "boolean[]",
    "integer[]",
    "float[]",
    "double[]",
    "string[]",
    "time[]",
    "elapsed-time[]",
)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


def _typed(json_type: str, **extra: Any) -> dict[str, Any]:
    return {
        "anyOf": [{"type": json_type, **extra}, _ref("var-ref")],
        "errorMessage": f"must be a {json_type} or a ${{variable}}",
    }


SHARED_DEFS: dict[str, Any] = {
    "var-ref": {
        "type": "string",
        "pattern": VAR_REF_PATTERN,
        "description": "Exactly one ${variable}: takes the variable's type.",
    },
    "duration": {
        "anyOf": [
            {"type": "number", "minimum": 0},
            {"type": "string", "pattern": DURATION_PATTERN},
            _ref("var-ref"),
        ],
        "description": "A duration: 10s, 250ms, 2m, 1h, 1m30s, or a number of seconds.",
        "errorMessage": "must be a duration such as 10s, 250ms, 2m, 1h or a number of seconds",
    },
    "number": _typed("number"),
    "integer": _typed("integer"),
    "positive-integer": _typed("integer", minimum=1),
    "boolean": _typed("boolean"),
    "identifier": {
        "type": "string",
        "minLength": 1,
        "pattern": r"^[A-Za-z_][A-Za-z0-9_-]*$",
        "description": "A name for a variable or an item alias.",
    },
    "item-ref": {
        "type": "string",
        "minLength": 1,
        "description": "An item alias from add-item's as:, or the item reference itself.",
    },
    "scalar": {"type": ["string", "number", "boolean", "null"]},
    "value-matcher": {
        "type": "object",
        "description": "How an observed value must compare. Several keys must all hold.",
        "properties": {
            "approx": {
                "anyOf": [{"type": "number"}, _ref("var-ref")],
                "description": "About equal: within tolerance (absolute) or rel (relative).",
            },
            "tolerance": _ref("number"),
            "rel": _ref("number"),
            "between": {
                "type": "array",
                "prefixItems": [_ref("number"), _ref("number")],
                "minItems": 2,
                "maxItems": 2,
                "description": "Inclusive range [low, high].",
            },
            "gt": _ref("number"),
            "ge": _ref("number"),
            "lt": _ref("number"),
            "le": _ref("number"),
            "ne": {"description": "Not equal to this value."},
            "in": {"type": "array", "minItems": 1, "description": "Equal to one of these."},
            "regex": {"type": "string", "description": "Python regex searched in a string value."},
        },
        "additionalProperties": False,
        "minProperties": 1,
        "dependentRequired": {"tolerance": ["approx"], "rel": ["approx"]},
    },
    "value": {
        "description": (
            "A plain value (equality; numbers compare as numbers), a matcher object, "
            "or an array matched element by element."
        ),
        "anyOf": [
            _ref("scalar"),
            _ref("value-matcher"),
            {"type": "array", "items": _ref("value")},
        ],
    },
    "quality": {
        "description": (
            "good | uncertain | bad, a named quality, a number, or {class, substatus, limit}."
        ),
        "anyOf": [
            {"enum": list(QUALITY_NAMES)},
            {"type": "integer", "minimum": 0, "maximum": 65535},
            _ref("var-ref"),
            {
                "type": "object",
                "properties": {
                    "class": {"enum": ["good", "uncertain", "bad"]},
                    "substatus": {
                        "anyOf": [
                            {"type": "integer", "minimum": 0, "maximum": 15},
                            {"enum": [*QUALITY_NAMES[3:], "non-specific"]},
                        ]
                    },
                    "limit": {
                        "anyOf": [
                            {"enum": ["none", "low", "high", "constant"]},
                            {"type": "integer", "minimum": 0, "maximum": 3},
                        ]
                    },
                },
                "additionalProperties": False,
                "minProperties": 1,
            },
        ],
        "errorMessage": (
            "must be good, uncertain, bad, a named quality such as out-of-service, "
            "a number such as 192, or {class, substatus, limit}"
        ),
    },
    "status-category": {
        "anyOf": [{"type": "string", "minLength": 1}, {"type": "integer"}],
        "examples": _CATEGORIES,
    },
    "status-source": {
        "anyOf": [{"type": "string", "minLength": 1}, {"type": "integer"}],
        "examples": _SOURCES,
    },
    "status": {
        "description": "ok, or the expected MXAccess status by category, detected-by and detail.",
        "anyOf": [
            {"const": "ok"},
            {
                "type": "object",
                "properties": {
                    "category": _ref("status-category"),
                    "detected-by": _ref("status-source"),
                    "detail": _ref("integer"),
                },
                "additionalProperties": False,
                "minProperties": 1,
            },
        ],
        "errorMessage": "must be ok or {category, detected-by, detail}",
    },
    "timestamp": {
        "type": "object",
        "properties": {
            "max-age": _ref("duration"),
            "after": {
                "anyOf": [{"const": "step-start"}, {"type": "string", "format": "date-time"}],
                "description": "step-start, or an ISO 8601 date-time.",
            },
        },
        "additionalProperties": False,
        "minProperties": 1,
    },
    "data-change": {
        "type": ["object", "null"],
        "properties": {
            "value": _ref("value"),
            "quality": _ref("quality"),
            "status": _ref("status"),
            "timestamp": _ref("timestamp"),
        },
        "additionalProperties": False,
    },
    "completion": {
        "type": ["object", "null"],
        "properties": {"status": _ref("status")},
        "additionalProperties": False,
    },
    "vars": {
        "type": "object",
        "propertyNames": _ref("identifier"),
        "description": "Variables: ${name} in any string.",
    },
}

#: Keys of an event expectation and which body definition each takes.
EVENT_KIND_KEYS: dict[str, str] = {
    "data-change": "data-change",
    "write-complete": "completion",
    "operation-complete": "completion",
    "buffered-data-change": "data-change",
}


def _step_entry(name: str, body_ref: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "title": name,
        "description": description,
        "properties": {
            name: body_ref,
            "name": {"type": "string"},
            "timeout": _ref("duration"),
        },
        "required": [name],
        "additionalProperties": False,
    }


def build_scenario_schema(registry: StepRegistry, *, for_loader: bool = False) -> dict[str, Any]:
    """Build the scenario schema from the registry (published flavour unless ``for_loader``)."""
    defs: dict[str, Any] = copy.deepcopy(SHARED_DEFS)
    step_entries: list[dict[str, Any]] = []
    for step_type in registry:
        body_name = f"step-{step_type.name}"
        defs[body_name] = copy.deepcopy(dict(step_type.schema))
        if step_type.description and "description" not in defs[body_name]:
            defs[body_name]["description"] = step_type.description
        step_entries.append(_step_entry(step_type.name, _ref(body_name), step_type.description))
    if for_loader:
        defs["step"] = {"type": "object"}
    else:
        defs["step"] = {"oneOf": step_entries}
    defs["steps"] = {"type": "array", "items": _ref("step")}
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": SCENARIO_SCHEMA_ID,
        "title": "mxgw-run scenario",
        "description": "A declarative check against the MXAccess Gateway, run by mxgw-run.",
        "type": "object",
        "properties": {
            "version": {"const": 1, "description": "Language version; 1."},
            "name": {"type": "string", "minLength": 1},
            "description": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string", "minLength": 1}},
            "metadata": {
                "type": "object",
                "description": "Free-form facts copied into every report.",
            },
            "vars": _ref("vars"),
            "timeouts": {
                "type": "object",
                "properties": {
                    "step": _ref("duration"),
                    "scenario": _ref("duration"),
                    "cleanup": _ref("duration"),
                },
                "additionalProperties": False,
            },
            "steps": _ref("steps"),
        },
        "required": ["steps"],
        "additionalProperties": False,
        "$defs": defs,
    }
