"""Tests of mxgw_runner."""
