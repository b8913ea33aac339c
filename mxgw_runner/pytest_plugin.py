"""pytest plugin (``pytest11`` entry point): collects ``*.mxgw.yaml`` scenarios as tests."""

from __future__ import annotations
