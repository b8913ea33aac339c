"""``mxgw-run --simulate [GALAXY]``: an embedded simulator on loopback for the run.

The simulator runs in process, on the runner's own event loop: no second
interpreter to start (a run begins in a fraction of a second), no child process
to leak if the runner is killed, and it stops on the loop that started it. A
galaxy file with mistakes is reported like a scenario file, with locations.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path


@contextlib.asynccontextmanager
async def embedded_simulator(galaxy: str | None = None) -> AsyncIterator[str]:
    """Serve the galaxy (None: the packaged default) on 127.0.0.1; yields the endpoint.

    Raises :class:`~mxgw_runner.errors.ScenarioError` for an invalid galaxy file.
    """
    from mxgw_sim.control import GalaxyAdapter, load_galaxy_runtime
    from mxgw_sim.server import ServerConfig, SimServer

    # The simulator's own log would interleave with the run's console output.
    logging.getLogger("mxgw_sim").setLevel(logging.WARNING)
    galaxy_file = str(Path(galaxy)) if galaxy else None
    runtime = load_galaxy_runtime(galaxy_file)
    config = ServerConfig(listen="127.0.0.1:0", galaxy_file=galaxy_file)
    server = SimServer(config, GalaxyAdapter(runtime, galaxy_file, False))
    try:
        endpoint = await server.start()
        yield endpoint
    finally:
        await server.stop(grace=1.0)
