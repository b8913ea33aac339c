"""Galaxy security through the worker: AuthenticateUser and every classification."""

from __future__ import annotations

import pytest
from galaxysupport import WRITE, Harness, category, source

from mxgateway import MxStatus, MxStatusCategory, MxStatusSource
from mxgateway.generated import mxaccess_gateway_pb2 as pb

SECURITY_OFF = """
version: 1
security: {enabled: false}
areas:
  - name: A
    objects:
      - name: O
        attributes:
          - {name: Op, type: integer, security: Operate}
          - {name: Sec, type: integer, security: SecuredWrite}
          - {name: View, type: integer, security: ViewOnly}
"""


async def secured_harness() -> tuple[Harness, dict[str, int]]:
    h = Harness()
    await h.register()
    passwords = {
        "operator": "operator1",
        "operator2": "operator2",
        "supervisor": "supervisor1",
        "engineer": "engineer1",
    }
    ids = {name: await h.authenticate(name, pw) for name, pw in passwords.items()}
    assert all(ids.values()) and len(set(ids.values())) == 4
    return h, ids


def assert_security_error(status: pb.MxStatusProxy) -> None:
    assert status.success == 0
    assert category(status) is MxStatusCategory.SECURITY_ERROR
    assert source(status) is MxStatusSource.RESPONDING_AUTOMATION_OBJECT


def assert_ok(status: pb.MxStatusProxy) -> None:
    assert MxStatus.from_proto(status).ok, status


async def test_authenticate_with_security_on() -> None:
    h = Harness()
    await h.register()
    assert await h.authenticate("operator", "wrong") == 0
    assert await h.authenticate("nobody", "operator1") == 0
    first = await h.authenticate("operator", "operator1")
    assert first > 0
    assert await h.authenticate("Operator", "operator1") == first  # names ignore case


async def test_failed_authentication_never_echoes_the_password() -> None:
    h = Harness()
    await h.register()
    cmd = pb.AuthenticateUserCommand(
        server_handle=h.handle, user_name="operator", password="s3cret-Pa55"
    )
    reply = await h.run(authenticate_user=cmd)
    assert reply.authenticate_user.user_id == 0
    assert "s3cret-Pa55" not in str(reply)


async def test_any_credentials_give_1_with_security_off() -> None:
    h = Harness(SECURITY_OFF)
    await h.register()
    assert await h.authenticate("whoever", "whatever") == 1
    op = await h.subscribe("O.Op")
    assert_ok(await h.write_outcome(op, 5))
    sec = await h.subscribe("O.Sec")
    assert_ok(await h.write_outcome(sec, 5))
    view = await h.subscribe("O.View")
    assert category(await h.write_outcome(view, 5)) is MxStatusCategory.OPERATIONAL_ERROR


async def test_archestra_user_to_id() -> None:
    h = Harness()
    await h.register()
    lookup = pb.ArchestrAUserToIdCommand(server_handle=h.handle, user_name="engineer")
    assert (await h.run(archestra_user_to_id=lookup)).archestra_user_to_id.user_id == 0
    user_id = await h.authenticate("engineer", "engineer1")
    assert (await h.run(archestra_user_to_id=lookup)).archestra_user_to_id.user_id == user_id


async def test_free_access_needs_no_user() -> None:
    h, _ = await secured_harness()
    item = await h.subscribe("Pump102.Free")
    assert_ok(await h.write_outcome(item, 1))


async def test_operate_needs_a_user_with_operate() -> None:
    h, ids = await secured_harness()
    item = await h.subscribe("Pump102.Operate")
    status = await h.write_outcome(item, 1)
    assert_security_error(status)
    assert status.detail == 321
    assert_ok(await h.write_outcome(item, 2, user=ids["operator"]))


async def test_tune_needs_tune() -> None:
    h, ids = await secured_harness()
    item = await h.subscribe("Pump102.Tune")
    assert_security_error(await h.write_outcome(item, 2.0, user=ids["operator"]))
    assert_ok(await h.write_outcome(item, 3.0, user=ids["engineer"]))


async def test_configure_needs_configure_and_the_object_off_scan() -> None:
    h, ids = await secured_harness()
    on_scan = await h.subscribe("Pump102.Configure")
    status = await h.write_outcome(on_scan, 11.0, user=ids["engineer"])
    assert category(status) is MxStatusCategory.OPERATIONAL_ERROR
    off_scan = await h.subscribe("Pump103.MaxSpeed")
    assert_security_error(await h.write_outcome(off_scan, 1200.0, user=ids["operator"]))
    assert_ok(await h.write_outcome(off_scan, 1200.0, user=ids["engineer"]))
    h.runtime.set_scan_state("Pump102", False)
    assert_ok(await h.write_outcome(on_scan, 11.0, user=ids["engineer"]))


async def test_secured_write_needs_write_secured_by_the_same_user() -> None:
    h, ids = await secured_harness()
    item = await h.subscribe("Pump102.Secured")
    op2 = ids["operator2"]
    assert_security_error(await h.write_outcome(item, 1, user=op2))  # plain Write
    assert_security_error(
        await h.write_outcome(item, 1, user=ids["operator"], verifier=ids["operator"])
    )
    assert_security_error(await h.write_outcome(item, 1, user=op2, verifier=ids["supervisor"]))
    assert_ok(await h.write_outcome(item, 1, user=op2, verifier=op2))


async def test_verified_write_needs_a_different_verifier_with_verify() -> None:
    h, ids = await secured_harness()
    item = await h.subscribe("Pump102.Verified")
    op2 = ids["operator2"]
    assert_security_error(await h.write_outcome(item, 1, user=op2, verifier=op2))
    assert_security_error(await h.write_outcome(item, 1, user=op2, verifier=ids["operator"]))
    assert_security_error(await h.write_outcome(item, 1, user=op2, verifier=0))
    assert_security_error(await h.write_outcome(item, 1, user=op2))
    assert_ok(await h.write_outcome(item, 1, user=op2, verifier=ids["supervisor"]))


async def test_view_only_is_never_writable() -> None:
    h, ids = await secured_harness()
    item = await h.subscribe("Pump102.ViewOnly")
    status = await h.write_outcome(item, 1, user=ids["engineer"])
    assert category(status) is MxStatusCategory.OPERATIONAL_ERROR
    assert source(status) is MxStatusSource.RESPONDING_AUTOMATION_OBJECT


async def test_user_ids_are_valid_only_in_their_connection() -> None:
    h, ids = await secured_harness()
    other = await h.register("other")
    h.handle = other
    item = await h.subscribe("Pump102.Operate")
    assert_security_error(await h.write_outcome(item, 1, user=ids["operator"]))
    assert_security_error(await h.write_outcome(item, 1, user=12345))


async def test_unregister_forgets_signed_in_users() -> None:
    h, ids = await secured_harness()
    first = h.handle
    await h.run(unregister=pb.UnregisterCommand(server_handle=first))
    await h.register()
    item = await h.subscribe("Pump102.Operate")
    assert_security_error(await h.write_outcome(item, 1, user=ids["operator"]))


@pytest.mark.parametrize("bypass", [True, False])
async def test_supervisory_items_write_as_the_client(bypass: bool) -> None:
    h = Harness(supervisory_bypasses_security=bypass)
    await h.register()
    item = await h.subscribe("Pump102.Operate", supervisory=True)
    status = await h.write_outcome(item, 4)
    if bypass:
        assert_ok(status)
    else:
        assert_security_error(status)


async def test_security_refusal_in_the_reply_has_the_golden_shape() -> None:
    h = Harness(security_refusal="reply")
    await h.register()
    item = await h.subscribe("Pump102.Operate")
    reply = await h.write(item, 1)
    assert reply.kind == pb.MX_COMMAND_KIND_WRITE
    assert reply.protocol_status.code == pb.PROTOCOL_STATUS_CODE_MXACCESS_FAILURE
    assert reply.hresult == -2147220992
    value = reply.return_value
    assert (value.data_type, value.variant_type, value.is_null) == (
        pb.MX_DATA_TYPE_NO_DATA,
        "VT_EMPTY",
        True,
    )
    first, second = reply.statuses
    assert (first.success, category(first), source(first), first.detail) == (
        0,
        MxStatusCategory.SECURITY_ERROR,
        MxStatusSource.RESPONDING_LMX,
        321,
    )
    assert (second.success, category(second), source(second), second.detail) == (
        0,
        MxStatusCategory.OPERATIONAL_ERROR,
        MxStatusSource.RESPONDING_NMX,
        902,
    )
    assert (first.raw_category, first.raw_detected_by) == (6, 1)  # MXAccess numbers
    await h.settle()
    assert h.of(item, WRITE) == []  # refused by Write: no completion follows
    user = await h.authenticate("operator", "operator1")
    assert (await h.write(item, 2, user=user)).protocol_status.code == pb.PROTOCOL_STATUS_CODE_OK
