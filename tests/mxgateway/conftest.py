"""Fixtures of the client tests; the test gateway itself lives in ``client_testserver``."""

from client_testserver import api_key, gateway, plain_gateway, session

__all__ = ["api_key", "gateway", "plain_gateway", "session"]
