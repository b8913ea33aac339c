"""mxgw-run interrupted while the gateway is opening its session still closes that session.

The gateway has made the session but its reply is on the way: the runner's cleanup stack
does not know the session yet, so only the open step itself can close it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from client_testserver import SESSION_ID, start_gateway, wait_for

SCENARIO = """\
name: interrupted while opening
steps:
  - open-session: {}
  - wait: 60s
"""


async def test_sigint_while_opening_closes_the_session(tmp_path: Path) -> None:
    gateway = await start_gateway(api_key=None)
    try:
        gateway.servicer.open_delay = 1.0
        scenario = tmp_path / "open.yaml"
        scenario.write_text(SCENARIO, encoding="utf-8")
        env = {**os.environ, "MXGW_RUN_DISABLE_PLUGIN_AUTOLOAD": "1"}
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).with_name("mxgw-run")),
            str(scenario),
            "--endpoint",
            gateway.endpoint,
            "--plaintext",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
        )
        try:
            await wait_for(gateway.servicer.opening, "the runner's OpenSession", limit=30.0)
            process.send_signal(signal.SIGINT)
            output, _ = await asyncio.wait_for(process.communicate(), 30.0)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        text = output.decode()
        assert process.returncode == 130, text
        assert SESSION_ID in gateway.servicer.closed_sessions, text
    finally:
        await gateway.server.stop(None)
