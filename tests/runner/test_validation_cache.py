"""A repeated step body is validated once, yet a body that differs only in a value's type,
or an invalid body seen again, is still judged (and located) on its own."""

from __future__ import annotations

from mxgw_runner.loader import get_validator


def test_a_body_of_another_type_is_not_taken_for_a_valid_one() -> None:
    validator = get_validator()
    assert validator.validate_body("wait", 1, "/steps/0/wait") == []
    assert validator.validate_body("wait", 1, "/steps/1/wait") == []
    # True == 1 with the same hash in Python; a duration must still refuse the boolean.
    refused = validator.validate_body("wait", True, "/steps/3/wait")
    assert refused and all(p.pointer.startswith("/steps/3/wait") for p in refused)


def test_an_invalid_body_is_reported_every_time_at_its_own_place() -> None:
    validator = get_validator()
    body = {"item": "v", "value": 1, "colour": "red"}
    first = validator.validate_body("write", body, "/steps/4/write")
    again = validator.validate_body("write", dict(body), "/steps/9/write")
    assert first and again
    assert any("colour" in p.message for p in again)
    assert all(p.pointer.startswith("/steps/9/write") for p in again)


def test_equal_valid_bodies_in_other_key_order_stay_valid() -> None:
    validator = get_validator()
    assert validator.validate_body("write", {"item": "v", "value": 1}, "/steps/0/write") == []
    assert validator.validate_body("write", {"value": 1, "item": "v"}, "/steps/1/write") == []
    # Same keys, a value of another type the schema still accepts: judged, not assumed.
    assert validator.validate_body("write", {"value": "1", "item": "v"}, "/steps/2/write") == []


def test_inlined_references_keep_a_self_referring_definition_finite() -> None:
    from mxgw_runner.validation import _inline_refs

    defs = {
        "tree": {"type": "array", "items": {"$ref": "#/$defs/tree"}},
        "leaf": {"type": "string"},
    }
    inlined = _inline_refs(
        {"properties": {"a": {"$ref": "#/$defs/leaf"}, "t": {"$ref": "#/$defs/tree"}}}, defs
    )
    assert inlined["properties"]["a"] == {"type": "string"}
    # One level is inlined; the reference back to itself stays a reference.
    assert inlined["properties"]["t"] == {"type": "array", "items": {"$ref": "#/$defs/tree"}}
