"""The pytest plugin's workings: scenario collection, running and failure rendering.

Imported only once pytest collects a scenario file; see :mod:`mxgw_runner.pytest_plugin`.
"""
