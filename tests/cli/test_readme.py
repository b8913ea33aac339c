"""The CLI section of the users' README, replayed line by line against a simulator.

The lines are the README's, word for word; only what cannot be the same here is substituted:
the endpoint (an ephemeral port), ``<id>`` (the id open-session printed), the handles the
simulator returned, and the item (``Object.Attribute`` is a placeholder, not a galaxy item).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable

from cli_helpers import run_cli

from mxgw_sim.testing import SimProcess

README_LINES = """\
mxgw-py version --json
mxgw-py open-session --endpoint localhost:5000 --plaintext --json
mxgw-py register --session-id <id> --client-name python-client --json
mxgw-py add-item --session-id <id> --server-handle 1 --item Object.Attribute --json
mxgw-py advise --session-id <id> --server-handle 1 --item-handle 2 --json
mxgw-py stream-events --session-id <id> --max-events 1 --json
mxgw-py write --session-id <id> --server-handle 1 --item-handle 2 --type int32 --value 123 --json
"""


def test_readme_cli_section(sim_factory: Callable[..., SimProcess]) -> None:
    sim = sim_factory(keys=False)
    # the README's later lines rely on the default endpoint: point it at the simulator
    env = {"MXGATEWAY_ENDPOINT": sim.endpoint}
    found: dict[str, str] = {"<id>": "", "--server-handle 1": "", "--item-handle 2": ""}
    docs = []
    for line in README_LINES.splitlines():
        text = line.replace("localhost:5000", sim.endpoint).replace("Object.Attribute", "Types.Int")
        for placeholder, value in found.items():
            if value:
                text = text.replace(placeholder, value)
        argv = shlex.split(text)
        assert argv[0] == "mxgw-py"
        doc = run_cli(*argv[1:], env=env).expect(0).docs[-1]
        docs.append(doc)
        if "session_id" in doc and not found["<id>"]:
            found["<id>"] = doc["session_id"]
        if doc.get("command") == "register":
            found["--server-handle 1"] = f"--server-handle {doc['server_handle']}"
        if doc.get("command") == "add-item":
            found["--item-handle 2"] = f"--item-handle {doc['item_handle']}"
    assert [d.get("command", d.get("event")) for d in docs] == [
        "version",
        "open-session",
        "register",
        "add-item",
        "advise",
        "data_change",
        "write",
    ]
    assert docs[-1]["value"] == 123
    run_cli("close-session", "--session-id", found["<id>"], env=env).expect(0)
    assert sim.list_sessions() == []
