"""The public face of ``mxgateway``: exactly these names, all importable, nothing private."""

from __future__ import annotations

import mxgateway

EXPECTED = {
    # client and session
    "GatewayClient", "Session", "ClientOptions", "UNSET", "Timeout", "ChannelFactory",
    "create_channel", "EventStream", "CallStream", "SessionState", "PlaintextKeyWarning",
    "InvalidOptionsError", "AlarmFeedItem",
    # results
    "SubscribeResult", "BulkWriteResult", "BulkReadResult", "WriteEntry",
    # values
    "MxDataType", "ValueType", "SparseArray", "to_mx_value", "from_mx_value",
    "parse_type_name", "type_names", "value_type_of",
    # statuses and quality
    "MxStatus", "MxStatusCategory", "MxStatusSource", "Quality", "QualityClass", "QualityLimit",
    # events
    "Event", "DataChange", "WriteComplete", "OperationComplete", "BufferedDataChange",
    "AlarmTransition", "ReplayGap", "UnknownEvent", "ActiveAlarm", "AlarmSnapshotComplete",
    "event_from_proto",
    # errors
    "MxGatewayError", "GatewayRpcError", "AuthenticationError", "PermissionDeniedError",
    "InvalidArgumentError", "SessionNotFoundError", "StreamAlreadyOpenError",
    "GatewayUnavailableError", "DeadlineExceededError", "ResourceExhaustedError",
    "MxGatewayCommandError", "MxAccessFailureError", "MxAccessCommunicationError",
    "MxAccessConfigurationError", "MxAccessOperationalError", "MxAccessSecurityError",
    "MxAccessSoftwareError", "MxAccessOtherError", "InvalidRequestError",
    "WorkerUnavailableError", "SessionFaultedError", "GatewayBusyError",
    "ValueConversionError", "ClientClosedError",
    "__version__",
}  # fmt: skip


def _isort_key(name: str) -> tuple[int, str]:
    # The order ruff (RUF022) keeps: SCREAMING_CASE, then CamelCase, then the rest.
    if name.isupper() and len(name) > 1:
        return (0, name)
    if name[0].isupper():
        return (1, name)
    return (2, name)


def test_all_is_exactly_the_public_api() -> None:
    assert set(mxgateway.__all__) == EXPECTED
    assert len(mxgateway.__all__) == len(EXPECTED), "no duplicates"


def test_all_is_sorted() -> None:
    assert mxgateway.__all__ == sorted(mxgateway.__all__, key=_isort_key)


def test_every_name_resolves_and_none_is_private() -> None:
    for name in mxgateway.__all__:
        assert hasattr(mxgateway, name), name
        assert not name.startswith("_") or name == "__version__"


def test_error_tree() -> None:
    m = mxgateway
    for rpc in (
        m.AuthenticationError, m.PermissionDeniedError, m.InvalidArgumentError,
        m.SessionNotFoundError, m.StreamAlreadyOpenError, m.GatewayUnavailableError,
        m.DeadlineExceededError, m.ResourceExhaustedError,
    ):  # fmt: skip
        assert issubclass(rpc, m.GatewayRpcError) and issubclass(rpc, m.MxGatewayError)
    for category in (
        m.MxAccessCommunicationError, m.MxAccessConfigurationError, m.MxAccessOperationalError,
        m.MxAccessSecurityError, m.MxAccessSoftwareError, m.MxAccessOtherError,
    ):  # fmt: skip
        assert issubclass(category, m.MxAccessFailureError)
    for reply in (m.MxAccessFailureError, m.InvalidRequestError, m.WorkerUnavailableError):
        assert issubclass(reply, m.MxGatewayCommandError)
    assert issubclass(m.ValueConversionError, ValueError)
    assert issubclass(m.ClientClosedError, m.MxGatewayError)
    tree = m._errors.__doc__ or ""
    for name in EXPECTED:
        obj = getattr(m, name)
        if (
            isinstance(obj, type)
            and issubclass(obj, m.MxGatewayError)
            and obj.__module__ == ("mxgateway._errors")
        ):
            assert name in tree, f"{name} missing from the tree in _errors' docstring"
