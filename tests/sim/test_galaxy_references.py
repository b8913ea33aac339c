"""Item reference parsing against the default galaxy (MXACCESS.md, "Item references")."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mxgw_sim.galaxy import (
    Resolved,
    Selector,
    Unresolved,
    UnresolvedKind,
    default_galaxy,
    parse_galaxy,
)
from mxgw_sim.galaxy.references import resolve_reference


@pytest.mark.parametrize(
    ("reference", "context", "key", "selector", "index", "bit"),
    [
        ("Pump101.Speed.SP", None, ("Pump101", "Speed.SP"), Selector.VALUE, 0, 0),
        ("pump101.speed.sp", None, ("Pump101", "Speed.SP"), Selector.VALUE, 0, 0),
        ("Pump101.Speed.SP.Value", None, ("Pump101", "Speed.SP"), Selector.VALUE, 0, 0),
        ("Pump101.Speed.SP.Quality", None, ("Pump101", "Speed.SP"), Selector.QUALITY, 0, 0),
        ("Tank01.Inlet.PV", None, ("Tank01.Inlet", "PV"), Selector.VALUE, 0, 0),
        ("Pump101.StatusWord.00", None, ("Pump101", "StatusWord"), Selector.BIT, 0, 0),
        ("Pump101.StatusWord.31", None, ("Pump101", "StatusWord"), Selector.BIT, 0, 31),
        ("Types.IntArray[]", None, ("Types", "IntArray"), Selector.WHOLE_ARRAY, 0, 0),
        ("Types.IntArray[1]", None, ("Types", "IntArray"), Selector.ELEMENT, 1, 0),
        ("Types.IntArray[5]", None, ("Types", "IntArray"), Selector.ELEMENT, 5, 0),
        ("Types.IntArray[3].07", None, ("Types", "IntArray"), Selector.BIT, 3, 7),
        ("Me.Speed.PV", "Pump101", ("Pump101", "Speed.PV"), Selector.VALUE, 0, 0),
        ("Me.Current", "Pump101.Motor", ("Pump101.Motor", "Current"), Selector.VALUE, 0, 0),
        ("MyContainer.Mode", "Pump101.Motor", ("Pump101", "Mode"), Selector.VALUE, 0, 0),
        ("MyArea.Description", "Pump101", ("AreaA", "Description"), Selector.VALUE, 0, 0),
    ],
)
def test_references_that_resolve(
    reference: str,
    context: str | None,
    key: tuple[str, str],
    selector: Selector,
    index: int,
    bit: int,
) -> None:
    target = resolve_reference(default_galaxy(), reference, context)
    assert isinstance(target, Resolved), target
    assert (target.key, target.selector, target.index, target.bit) == (key, selector, index, bit)


@pytest.mark.parametrize(
    ("reference", "context", "kind", "reason"),
    [
        ("Pump101.Speedd.SP", None, UnresolvedKind.CONFIGURATION, "no such attribute"),
        ("Pump999.Speed.SP", None, UnresolvedKind.CONFIGURATION, "no such object"),
        ("Pump101", None, UnresolvedKind.CONFIGURATION, "names an object"),
        ("Tank01.Inlet", None, UnresolvedKind.CONFIGURATION, "names an object"),
        ("Types.IntArray", None, UnresolvedKind.BARE_ARRAY, "use IntArray[]"),
        ("Types.IntArray[0]", None, UnresolvedKind.CONFIGURATION, "start at 1"),
        ("Types.IntArray[6]", None, UnresolvedKind.CONFIGURATION, "beyond length"),
        ("Types.Int[1]", None, UnresolvedKind.CONFIGURATION, "not an array"),
        ("Types.Double.03", None, UnresolvedKind.CONFIGURATION, "integers only"),
        ("Pump101.StatusWord.32", None, UnresolvedKind.CONFIGURATION, ".00 to .31"),
        ("Types.IntArray[].01", None, UnresolvedKind.CONFIGURATION, "whole array"),
        ("Types.Int.Colour", None, UnresolvedKind.CONFIGURATION, "unknown property"),
        ("Me.Speed.SP", None, UnresolvedKind.CONFIGURATION, "needs a context"),
        ("Me.Speed.SP", "Nobody", UnresolvedKind.CONFIGURATION, "does not exist"),
        ("MyEngine.X", "Pump101", UnresolvedKind.CONFIGURATION, "not modelled"),
        ("Pump101..SP", None, UnresolvedKind.CONFIGURATION, "malformed"),
        ("Pump101.Speed SP", None, UnresolvedKind.CONFIGURATION, "malformed"),
        ("", None, UnresolvedKind.CONFIGURATION, "empty"),
        ("P" * 33 + ".X", None, UnresolvedKind.CONFIGURATION, "longer than 32"),
        (".".join(["A" * 32] * 11), None, UnresolvedKind.CONFIGURATION, "longer than 329"),
    ],
)
def test_references_that_do_not_resolve(
    reference: str, context: str | None, kind: UnresolvedKind, reason: str
) -> None:
    target = resolve_reference(default_galaxy(), reference, context)
    assert isinstance(target, Unresolved), target
    assert target.kind is kind
    assert reason in target.reason


def test_identifier_and_reference_limits_are_inclusive() -> None:
    assert len(".".join(["A" * 32] * 10)) == 329
    target = resolve_reference(default_galaxy(), ".".join(["A" * 32] * 10))
    assert isinstance(target, Unresolved) and "no such object" in target.reason


@given(st.text(max_size=80), st.one_of(st.none(), st.text(max_size=20)))
@settings(max_examples=300, deadline=None)
def test_resolution_never_raises(reference: str, context: str | None) -> None:
    target = resolve_reference(default_galaxy(), reference, context)
    assert isinstance(target, Resolved | Unresolved)


@given(
    st.lists(
        st.sampled_from(["Pump101", "Speed", "SP", "Types", "IntArray[2]", "[]", "00", "Me", "."]),
        max_size=6,
    )
)
@settings(max_examples=300, deadline=None)
def test_resolution_of_near_miss_references_never_raises(parts: list[str]) -> None:
    target = resolve_reference(default_galaxy(), ".".join(parts), "Pump101")
    assert isinstance(target, Resolved | Unresolved)


def test_a_shorter_object_prefix_is_tried_when_the_longest_has_no_such_attribute() -> None:
    galaxy = parse_galaxy(
        "version: 1\nareas:\n  - name: A\n    objects:\n      - name: O\n"
        "        attributes: [{name: M.X, type: integer}]\n"
        "        objects: [{name: M, attributes: [{name: Y, type: integer}]}]\n"
    )
    x = resolve_reference(galaxy, "O.M.X")
    y = resolve_reference(galaxy, "O.M.Y")
    assert isinstance(x, Resolved) and x.key == ("O", "M.X")
    assert isinstance(y, Resolved) and y.key == ("O.M", "Y")
    missing = resolve_reference(galaxy, "O.M.Z")
    assert isinstance(missing, Unresolved) and "O.M has no such attribute" in missing.reason
