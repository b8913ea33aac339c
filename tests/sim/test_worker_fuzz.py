"""Random command sequences: every reply is data (never an internal error), nothing leaks."""

from __future__ import annotations

import asyncio

from galaxysupport import Harness, mx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mxgateway.generated import mxaccess_gateway_pb2 as pb

HANDLES = st.integers(min_value=-1, max_value=4)
REFERENCES = st.sampled_from(
    [
        "Types.Int",
        "Types.IntArray",
        "Types.IntArray[2]",
        "Pump101.StatusWord.03",
        "Pump102.Operate",
        "Tank02.Level.PV",
        "Nope.Nothing",
        "Me.Speed.SP",
        "Types.Int.Quality",
    ]
)
VALUES = st.sampled_from([mx(1), mx(2.5), mx("x"), mx(True), mx([1, 2]), pb.MxValue()])

COMMANDS = st.one_of(
    st.builds(lambda: {"register": pb.RegisterCommand(client_name="fuzz")}),
    st.builds(lambda s: {"unregister": pb.UnregisterCommand(server_handle=s)}, HANDLES),
    st.builds(
        lambda s, r: {"add_item": pb.AddItemCommand(server_handle=s, item_reference=r)},
        HANDLES,
        REFERENCES,
    ),
    st.builds(
        lambda s, r: {
            "add_item2": pb.AddItem2Command(server_handle=s, item_reference=r, context="Pump101")
        },
        HANDLES,
        REFERENCES,
    ),
    st.builds(
        lambda s, r: {
            "add_buffered_item": pb.AddBufferedItemCommand(server_handle=s, item_reference=r)
        },
        HANDLES,
        REFERENCES,
    ),
    st.builds(
        lambda s, i: {"advise": pb.AdviseCommand(server_handle=s, item_handle=i)}, HANDLES, HANDLES
    ),
    st.builds(
        lambda s, i: {
            "advise_supervisory": pb.AdviseSupervisoryCommand(server_handle=s, item_handle=i)
        },
        HANDLES,
        HANDLES,
    ),
    st.builds(
        lambda s, i: {"un_advise": pb.UnAdviseCommand(server_handle=s, item_handle=i)},
        HANDLES,
        HANDLES,
    ),
    st.builds(
        lambda s, i: {"remove_item": pb.RemoveItemCommand(server_handle=s, item_handle=i)},
        HANDLES,
        HANDLES,
    ),
    st.builds(
        lambda s, i: {"suspend": pb.SuspendCommand(server_handle=s, item_handle=i)},
        HANDLES,
        HANDLES,
    ),
    st.builds(
        lambda s, i: {"activate": pb.ActivateCommand(server_handle=s, item_handle=i)},
        HANDLES,
        HANDLES,
    ),
    st.builds(
        lambda s, i, v, u: {
            "write": pb.WriteCommand(server_handle=s, item_handle=i, value=v, user_id=u)
        },
        HANDLES,
        HANDLES,
        VALUES,
        HANDLES,
    ),
    st.builds(
        lambda s, i, v: {
            "write_secured": pb.WriteSecuredCommand(
                server_handle=s, item_handle=i, value=v, current_user_id=2, verifier_user_id=3
            )
        },
        HANDLES,
        HANDLES,
        VALUES,
    ),
    st.builds(
        lambda s: {
            "authenticate_user": pb.AuthenticateUserCommand(
                server_handle=s, user_name="operator", password="operator1"
            )
        },
        HANDLES,
    ),
    st.builds(
        lambda s, ms: {
            "set_buffered_update_interval": pb.SetBufferedUpdateIntervalCommand(
                server_handle=s, update_interval_ms=ms
            )
        },
        HANDLES,
        st.integers(min_value=-5, max_value=50),
    ),
    st.builds(
        lambda s, tags: {
            "subscribe_bulk": pb.SubscribeBulkCommand(server_handle=s, tag_addresses=tags)
        },
        HANDLES,
        st.lists(REFERENCES, max_size=3),
    ),
    st.builds(
        lambda s, items: {
            "unsubscribe_bulk": pb.UnsubscribeBulkCommand(server_handle=s, item_handles=items)
        },
        HANDLES,
        st.lists(HANDLES, max_size=3),
    ),
    st.builds(
        lambda s, tags: {"read_bulk": pb.ReadBulkCommand(server_handle=s, tag_addresses=tags)},
        HANDLES,
        st.lists(REFERENCES, max_size=3),
    ),
)

ANSWERS = {pb.PROTOCOL_STATUS_CODE_OK, pb.PROTOCOL_STATUS_CODE_MXACCESS_FAILURE}


@given(st.lists(COMMANDS, min_size=1, max_size=25))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_command_sequences(commands: list[dict[str, object]]) -> None:
    async def run() -> None:
        h = Harness()
        for payload in commands:
            reply = await h.run(**payload)
            assert reply.protocol_status.code in ANSWERS, reply
        await h.settle()
        sequences = [e.worker_sequence for e in h.events]
        assert sequences == list(range(1, len(sequences) + 1))
        await h.worker.shutdown()
        assert h.runtime.subscriber_count() == 0
        assert h.worker.snapshot().items == 0

    asyncio.run(run())
