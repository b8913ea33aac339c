"""``python -m mxgw_sim`` and the ``mxgw-sim`` console script."""

from __future__ import annotations

import os
import sys


def main() -> None:
    """Run ``mxgw-sim`` with the process arguments and exit with its status."""
    # gRPC's C core logs to stderr on its own; our messages say the same in one line.
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    from mxgw_sim.cli import main as _main

    sys.exit(_main())


if __name__ == "__main__":
    main()
