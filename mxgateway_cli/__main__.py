"""``python -m mxgateway_cli`` and the ``mxgw-py`` console script."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from mxgateway_cli.app import run

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (the console script exits with it)."""
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
