"""Bulk commands: entry by entry, per-entry results in input order; ReadBulk."""

from __future__ import annotations

from datetime import UTC, datetime

from galaxysupport import DATA, E_INVALIDARG, MXACCESS_FAILURE, OK, WRITE, Harness, category, mx

from mxgateway import MxStatusCategory, from_mx_value
from mxgateway.generated import mxaccess_gateway_pb2 as pb


async def test_subscribe_bulk_adds_and_advises_each_entry_in_order() -> None:
    h = Harness()
    await h.register()
    tags = ["Types.Int", "Nope.Nothing", "Types.Double"]
    reply = await h.run(
        subscribe_bulk=pb.SubscribeBulkCommand(server_handle=h.handle, tag_addresses=tags)
    )
    assert reply.protocol_status.code == OK
    results = reply.bulk_subscribe.results
    assert [r.tag_address for r in results] == tags
    assert [r.item_handle for r in results] == [1, 2, 3]
    assert all(r.was_successful and r.server_handle == h.handle for r in results)
    await h.settle()
    assert h.values(1) == [42] and h.values(3) == [3.25]
    assert h.of(2)[0].statuses[0].success == 0  # the typo shows after advise, as in MXAccess


async def test_add_advise_unadvise_remove_bulk() -> None:
    h = Harness()
    await h.register()
    added = await h.run(
        add_item_bulk=pb.AddItemBulkCommand(
            server_handle=h.handle, tag_addresses=["Types.Int", "Types.Bool"]
        )
    )
    handles = [r.item_handle for r in added.bulk_subscribe.results]
    assert handles == [1, 2]
    advise = pb.AdviseItemBulkCommand(server_handle=h.handle, item_handles=[1, 9, 2])
    advised = (await h.run(advise_item_bulk=advise)).bulk_subscribe.results
    assert [r.was_successful for r in advised] == [True, False, True]
    assert [r.tag_address for r in advised] == ["Types.Int", "", "Types.Bool"]
    assert "unknown item handle 9" in advised[1].error_message
    again = (await h.run(advise_item_bulk=advise)).bulk_subscribe.results
    assert [r.was_successful for r in again] == [False, False, False]
    un = pb.UnAdviseItemBulkCommand(server_handle=h.handle, item_handles=[2, 1])
    assert all(
        r.was_successful for r in (await h.run(un_advise_item_bulk=un)).bulk_subscribe.results
    )
    remove = pb.RemoveItemBulkCommand(server_handle=h.handle, item_handles=[1, 2])
    assert all(
        r.was_successful for r in (await h.run(remove_item_bulk=remove)).bulk_subscribe.results
    )
    assert h.worker.snapshot().items == 0


async def test_unsubscribe_bulk_releases_advised_and_plain_items() -> None:
    h = Harness()
    await h.register()
    await h.subscribe("Types.Int")
    await h.add("Types.Bool")
    cmd = pb.UnsubscribeBulkCommand(server_handle=h.handle, item_handles=[1, 2, 3])
    results = (await h.run(unsubscribe_bulk=cmd)).bulk_subscribe.results
    assert [r.was_successful for r in results] == [True, True, False]
    assert h.worker.snapshot().items == 0 and h.runtime.subscriber_count() == 0


async def test_bulk_with_an_unknown_server_handle_is_refused_whole() -> None:
    h = Harness()
    reply = await h.run(
        subscribe_bulk=pb.SubscribeBulkCommand(server_handle=7, tag_addresses=["Types.Int"])
    )
    assert reply.protocol_status.code == MXACCESS_FAILURE and reply.hresult == E_INVALIDARG


async def test_write_bulk_gives_per_entry_results_and_completions() -> None:
    h = Harness()
    await h.register()
    good = await h.subscribe("Types.Int")
    not_ready = await h.add("Types.Double")
    read_only = await h.subscribe("Pump102.ReadOnly")
    entries = [
        pb.WriteBulkEntry(item_handle=good, value=mx(8)),
        pb.WriteBulkEntry(item_handle=not_ready, value=mx(1.0)),
        pb.WriteBulkEntry(item_handle=99, value=mx(1)),
        pb.WriteBulkEntry(item_handle=read_only, value=mx(1)),
    ]
    reply = await h.run(write_bulk=pb.WriteBulkCommand(server_handle=h.handle, entries=entries))
    results = reply.bulk_write.results
    assert [r.item_handle for r in results] == [good, not_ready, 99, read_only]
    assert [r.was_successful for r in results] == [True, False, False, True]
    assert results[1].hresult == E_INVALIDARG and results[1].statuses[0].success == 0
    await h.settle()
    assert h.values(good)[-1] == 8
    assert category(h.of(read_only, WRITE)[0].statuses[0]) is MxStatusCategory.OPERATIONAL_ERROR
    assert len(h.of(good, WRITE)) == 1


async def test_write2_and_secured_bulk_variants() -> None:
    h = Harness()
    await h.register()
    item = await h.subscribe("Types.Double")
    secured = await h.subscribe("Pump102.Secured")
    op2 = await h.authenticate("operator2", "operator2")
    stamp = datetime(2026, 6, 1, tzinfo=UTC)
    w2 = pb.Write2BulkCommand(
        server_handle=h.handle,
        entries=[pb.Write2BulkEntry(item_handle=item, value=mx(1.25), timestamp_value=mx(stamp))],
    )
    assert (await h.run(write2_bulk=w2)).bulk_write.results[0].was_successful
    ws = pb.WriteSecuredBulkCommand(
        server_handle=h.handle,
        entries=[
            pb.WriteSecuredBulkEntry(
                item_handle=secured, value=mx(5), current_user_id=op2, verifier_user_id=op2
            )
        ],
    )
    assert (await h.run(write_secured_bulk=ws)).bulk_write.results[0].was_successful
    ws2 = pb.WriteSecured2BulkCommand(
        server_handle=h.handle,
        entries=[
            pb.WriteSecured2BulkEntry(
                item_handle=secured,
                value=mx(6),
                current_user_id=op2,
                verifier_user_id=0,
                timestamp_value=mx(stamp),
            )
        ],
    )
    assert (await h.run(write_secured2_bulk=ws2)).bulk_write.results[0].was_successful
    await h.settle()
    assert h.of(item, DATA)[-1].source_timestamp.ToDatetime(tzinfo=UTC) == stamp
    assert h.values(secured) == [0, 5, 6]


async def test_read_bulk_returns_current_values_cached_when_advised() -> None:
    h = Harness()
    await h.register()
    advised = await h.subscribe("Types.Int")
    tags = ["Types.Int", "Types.String", "Missing.Attr", "Tank02.Level.PV", "Types.IntArray[]"]
    reply = await h.run(read_bulk=pb.ReadBulkCommand(server_handle=h.handle, tag_addresses=tags))
    assert reply.protocol_status.code == OK
    results = reply.read_bulk.results
    assert [r.tag_address for r in results] == tags
    cached, text, missing, undeployed, array = results
    assert cached.was_cached and cached.was_successful and cached.item_handle == advised
    assert from_mx_value(cached.value) == 42 and cached.quality == 192
    assert not text.was_cached and text.was_successful and from_mx_value(text.value) == "hello"
    assert not missing.was_successful and missing.error_message
    assert category(missing.statuses[0]) is MxStatusCategory.CONFIGURATION_ERROR
    assert not undeployed.was_successful and undeployed.quality == 0
    assert from_mx_value(array.value) == [1, 2, 3, 4, 5]
    assert h.worker.snapshot().items == 1  # reading added nothing
