"""mxgw-run: declarative YAML scenarios against the MXAccess Gateway.

Kept light on purpose: importing this package must not import grpc, so that
``mxgw-run --version`` and ``--validate`` start fast.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
