"""Golden ``--json`` outputs: field names, types and values are part of the CLI's contract.

A fresh simulator (so handles and sequences start from 1) runs a fixed sequence of commands;
each output is compared exactly with ``tests/cli/golden/<name>.json`` after masking what
changes between runs (session and correlation ids, wall-clock timestamps, library versions).
After a deliberate output change, regenerate with ``MXGW_UPDATE_GOLDEN=1`` and review the
diff.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cli_helpers import KEY_ENV, Gateway, run_cli

from mxgw_sim.testing import SimProcess

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("MXGW_UPDATE_GOLDEN") == "1"
SESSION_RE = re.compile(r"session-[0-9a-f]{32}")
MASKED_KEYS = {
    "session_id": "<session-id>",
    "sessionId": "<session-id>",
    "correlationId": "<correlation-id>",
    "grpcio": "<version>",
    "protobuf": "<version>",
    "python": "<version>",
    "mxgateway": "<version>",
}


def mask(value: Any, key: str = "") -> Any:
    """Replace run-dependent values; keep everything else (values, types, names) as is."""
    if isinstance(value, dict):
        return {k: mask(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v, key) for v in value]
    if key in MASKED_KEYS and value is not None:
        return MASKED_KEYS[key]
    # wall-clock stamps; values (e.g. a time attribute's value) are not masked
    if key.lower().endswith("timestamp") and isinstance(value, str):
        return "<timestamp>"
    if isinstance(value, str):
        return SESSION_RE.sub("session-<id>", value)
    return value


def check(name: str, doc: Any) -> None:
    """Compare ``doc`` (masked) with the golden file ``name``."""
    path = GOLDEN / f"{name}.json"
    masked = mask(doc)
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(masked, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert masked == expected, f"{name}: output differs from {path.name}"


def test_golden_outputs(sim_factory: Callable[..., SimProcess]) -> None:
    gateway = Gateway(sim_factory())
    check("version", run_cli("version", "--json").expect(0).doc)
    opened = gateway.ok("open-session", "--client-name", "golden")
    check("open-session", opened)
    s = ["--session-id", opened["session_id"]]
    check("register", gateway.ok("register", *s, "--client-name", "golden"))
    check("register-raw", gateway.ok("register", *s, "--client-name", "golden", "--raw"))
    check(
        "add-item", gateway.ok("add-item", *s, "--server-handle", "1", "--item", "Pump102.ReadOnly")
    )
    pair = ["--server-handle", "1", "--item-handle", "1"]
    check("advise", gateway.ok("advise", *s, *pair))
    events = gateway.run("stream-events", *s, "--max-events", "1", "--timeout", "20", "--json")
    check("stream-events", events.expect(0).docs)
    check("advise-twice-error", gateway.run("advise", *s, *pair, "--json").expect(5).doc)
    read = gateway.run(
        "read",
        *s,
        "--server-handle",
        "1",
        "--item",
        "Pump101.LastStart",
        "--item",
        "Pump101.RunHours",
        "--item",
        "Types.DoubleArray[]",
        "--item",
        "Nope.Attr",
        "--json",
    )
    check("read", read.expect(5).doc)
    check("write", gateway.ok("write", *s, *pair, "--type", "int32", "--value", "4"))
    wrong_key = gateway.run("register", *s, "--json", env={KEY_ENV: "mxgw_nope_0000"})
    check("wrong-key-error", wrong_key.expect(4).doc)
    check("close-session", gateway.ok("close-session", *s))
    check("session-not-found-error", gateway.run("register", *s, "--json").expect(6).doc)
    check(
        "usage-error",
        run_cli(
            "write",
            "--session-id",
            "x",
            "--server-handle",
            "1",
            "--item-handle",
            "1",
            "--type",
            "int32",
            "--value",
            "1.5",
            "--json",
        )
        .expect(2)
        .doc,
    )
