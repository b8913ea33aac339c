"""The simulator's fault controls as ``mxgw-run`` steps (entry-point group ``mxgw_runner``)."""

from __future__ import annotations
