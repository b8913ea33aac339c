"""JSON schema fragments of the ``sim-*`` steps (shared definitions by ``$ref``)."""

from __future__ import annotations

from typing import Any

from mxgw_runner.schema import DATA_TYPE_NAMES, QUALITY_NAMES


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {**properties, "control": CONTROL},
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


#: Where the control service is, when it is not the run's gateway endpoint.
CONTROL: dict[str, Any] = {
    "type": "object",
    "description": (
        "A simulator other than the run's gateway: its endpoint and the environment "
        "variable holding an admin key (TLS unless the endpoint is loopback)."
    ),
    "properties": {
        "endpoint": {"type": "string", "minLength": 1, "description": "HOST:PORT"},
        "api-key-env": {
            "type": "string",
            "minLength": 1,
            "description": "Environment variable holding a key with the admin scope.",
        },
        "tls": _ref("boolean"),
        "ca-file": {"type": "string", "minLength": 1},
        "server-name": {"type": "string", "minLength": 1},
    },
    "required": ["endpoint"],
    "additionalProperties": False,
}

REFERENCE: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "description": "An attribute reference, Object.Attribute (e.g. Pump101.Speed.PV).",
}

#: A quality to force: a class (its plain code), a named quality or an OPC DA number.
QUALITY: dict[str, Any] = {
    "description": "good | uncertain | bad, a named quality such as sensor-failure, or a number.",
    "anyOf": [
        {"enum": list(QUALITY_NAMES)},
        {"type": "integer", "minimum": 0, "maximum": 65535},
        _ref("var-ref"),
    ],
    "errorMessage": "must be good, uncertain, bad, a named quality or a number such as 192",
}

SESSION: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "description": ("current (the scenario's open session, the default), all, or a session id."),
}

RESTORE: dict[str, Any] = {
    **_ref("boolean"),
    "description": "Undo the change in cleanup (default true).",
}

SET_VALUE = _obj(
    {
        "reference": REFERENCE,
        "value": {
            "type": ["string", "number", "boolean", "array", "null"],
            "description": "The value to force (a list for an array attribute).",
        },
        "type": {"enum": list(DATA_TYPE_NAMES), "description": "MxDataType when ambiguous."},
        "quality": QUALITY,
        "restore": RESTORE,
    },
    ["reference", "value"],
)

SET_QUALITY = _obj(
    {"reference": REFERENCE, "quality": QUALITY, "restore": RESTORE},
    ["reference", "quality"],
)

SET_SCAN = _obj(
    {
        "object": {"type": "string", "minLength": 1, "description": "Object tag name."},
        "state": {"enum": ["on", "off"], "description": "on or off scan."},
        "restore": RESTORE,
    },
    ["object", "state"],
)

LATENCY = {
    **_obj(
        {
            "commands": {**_ref("duration"), "description": "Added before each command."},
            "events": {**_ref("duration"), "description": "Added before each event."},
            "session": SESSION,
            "restore": RESTORE,
        }
    ),
    "minProperties": 1,
}

SESSION_ONLY = {
    "type": ["object", "null"],
    "properties": {"session": SESSION, "control": CONTROL},
    "additionalProperties": False,
}

FAULT_SESSION = {
    "type": ["object", "null"],
    "properties": {
        "session": SESSION,
        "message": {"type": "string", "description": "The fault message the session reports."},
        "control": CONTROL,
    },
    "additionalProperties": False,
}

DROP_WRITE_COMPLETIONS = {
    "type": ["object", "null"],
    "properties": {
        "session": SESSION,
        "enabled": {**_ref("boolean"), "description": "false delivers completions again."},
        "restore": RESTORE,
        "control": CONTROL,
    },
    "additionalProperties": False,
}

RESET = {
    "type": ["object", "null"],
    "properties": {"control": CONTROL},
    "additionalProperties": False,
}
