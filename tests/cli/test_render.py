"""The CLI's JSON renders values, statuses and events as the shared fixtures type them.

Each fixture in ``fixtures/`` is protobuf JSON; the expected CLI value is read from the
fixture's own JSON (ints as ints, floats as floats, timestamps and durations as the fixture
writes them, NaN/Infinity as strings), so the CLI cannot drift from the fixtures.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format

from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway_cli.output import dumps
from mxgateway_cli.render import event_doc, reply_doc, value_json, value_type_name

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text(encoding="utf-8"))
VALUE_FIXTURES = [f for f in MANIFEST["fixtures"] if f["category"] == "value"]
SCALARS = {
    "boolValue",
    "int32Value",
    "floatValue",
    "doubleValue",
    "stringValue",
    "timestampValue",
    "durationValue",
}


def _load(path: str) -> Any:
    return json.loads((FIXTURES / path).read_text(encoding="utf-8"))


def _reshape(flat: list[Any], dims: list[int]) -> list[Any]:
    if len(dims) <= 1:
        return flat
    step = math.prod(dims[1:])
    return [_reshape(flat[i * step : (i + 1) * step], dims[1:]) for i in range(dims[0])]


def expected_value(fixture: dict[str, Any]) -> Any:
    """The CLI value of a protobuf-JSON MxValue, read from the fixture's own JSON."""
    if fixture.get("isNull"):
        return None
    for key, value in fixture.items():
        if key in SCALARS:
            return value
        if key == "int64Value":
            return int(value)
        if key == "arrayValue":
            (values_key,) = [k for k in value if k.endswith("Values")]
            flat = value[values_key].get("values", [])
            if values_key == "valueValues":
                flat = [expected_value(v) for v in flat]
            elif values_key == "int64Values":
                flat = [int(v) for v in flat]
            dims = [int(d) for d in value.get("dimensions", [])]
            if len(dims) > 1 and math.prod(dims) == len(flat):
                return _reshape(flat, dims)
            return flat
        if key == "sparseArrayValue":
            return {
                "elements": [
                    {"index": e.get("index", 0), "value": expected_value(e["value"])}
                    for e in value.get("elements", [])
                ],
                "total_length": value.get("totalLength", 0),
            }
    return None


@pytest.mark.parametrize("entry", VALUE_FIXTURES, ids=[f["id"] for f in VALUE_FIXTURES])
def test_values_render_as_the_fixtures_type_them(entry: dict[str, Any]) -> None:
    fixture = _load(entry["path"])
    message = json_format.ParseDict(fixture, pb.MxValue())
    rendered = value_json(message)
    expected = expected_value(fixture)
    assert rendered == expected
    # same JSON types too: an int stays an int, a float a float
    assert json.loads(dumps(rendered)) == expected
    assert type(json.loads(dumps(rendered))) is type(expected)
    assert value_type_name(message)


def test_float32_prints_the_shortest_exact_decimal() -> None:
    value = pb.MxValue(float_value=1.1)
    assert value.float_value != 1.1  # stored as a 32-bit float
    assert value_json(value) == 1.1


def test_refused_write_reply_keeps_names_and_raw_numbers() -> None:
    reply = json_format.ParseDict(
        _load("commands/write-refused-by-security.reply.json"), pb.MxCommandReply()
    )
    doc = reply_doc(reply)
    assert doc["ok"] is False
    assert doc["protocol_status"]["code"] == "MXACCESS_FAILURE"
    assert doc["hresult"] == -2147220992
    assert (doc["return_value"], doc["return_value_type"]) == (None, "nodata")
    security, operational = doc["statuses"]
    assert (security["category"], security["detected_by"]) == ("SECURITY_ERROR", "RESPONDING_LMX")
    assert (security["detail"], security["raw_category"], security["raw_detected_by"]) == (
        321,
        8,
        3,
    )
    assert (operational["category"], operational["detected_by"]) == (
        "OPERATIONAL_ERROR",
        "RESPONDING_NMX",
    )
    assert security["ok"] is operational["ok"] is False


def test_event_stream_fixture_renders_in_order_with_the_gap_first() -> None:
    stream = _load("events/session-event-stream.json")
    events = [json_format.ParseDict(e, pb.MxEvent()) for e in stream["events"]]
    docs = [event_doc(e) for e in events]
    gap = docs[0]
    assert gap == {
        "event": "replay_gap",
        "lost": 4,
        "oldest_available_sequence": 8,
        "requested_after_sequence": 3,
        "worker_sequence": 0,
    }
    rest = docs[1:]
    assert [d["worker_sequence"] for d in rest] == sorted(d["worker_sequence"] for d in rest)
    change = rest[0]
    assert change["event"] == "data_change"
    assert (change["value"], change["value_type"]) == (41.0, "double")
    assert change["source_timestamp"] == "2026-04-30T12:34:56.789123Z"
    assert (change["quality"], change["quality_class"], change["quality_text"]) == (
        192,
        "GOOD",
        "Good",
    )
    for doc in docs:
        json.loads(dumps(doc))  # every document is valid, NaN-free JSON
