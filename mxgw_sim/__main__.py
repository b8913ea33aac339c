"""``python -m mxgw_sim`` and the ``mxgw-sim`` console script."""

from __future__ import annotations

import sys

from mxgw_sim.cli import main as _main


def main() -> None:
    """Run ``mxgw-sim`` with the process arguments and exit with its status."""
    sys.exit(_main())


if __name__ == "__main__":
    main()
