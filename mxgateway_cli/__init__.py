"""``mxgw-py``: the command line client of the MXAccess Gateway.

Each command makes one or a few gateway calls and prints the result, as deterministic JSON
with ``--json``. The reference, with every option, JSON field and exit code, is
``docs/cli.md``; ``mxgw-py --help`` lists the commands.
"""

from __future__ import annotations

from mxgateway_cli.errors import ExitCode

__all__ = ["ExitCode"]
