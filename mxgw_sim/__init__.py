"""mxgw-sim: a simulator of the MXAccess Gateway.

A real grpc.aio server speaking the gateway contract (``mxaccess_gateway.v1``), backed by a
simulated Galaxy, with a separate control service (``mxgw_sim.control.v1``) for fault
injection. Start it with ``mxgw-sim`` or, from tests, with :mod:`mxgw_sim.testing`.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
