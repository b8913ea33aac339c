"""TLS for the simulator: PEM certificate chain and private key into server credentials."""

from __future__ import annotations

from pathlib import Path

import grpc


class TlsConfigError(ValueError):
    """A certificate or key file cannot be used (the message names the file)."""


def _read_pem(path: str, what: str) -> bytes:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise TlsConfigError(f"{path}: cannot read {what}: {exc.strerror}") from None
    if b"-----BEGIN" not in data:
        raise TlsConfigError(f"{path}: {what} is not PEM (no -----BEGIN line)")
    return data


def server_credentials(cert_file: str, key_file: str) -> grpc.ServerCredentials:
    """Server credentials from a PEM certificate chain and its PEM private key."""
    chain = _read_pem(cert_file, "TLS certificate")
    key = _read_pem(key_file, "TLS private key")
    if b"PRIVATE KEY" not in key:
        raise TlsConfigError(f"{key_file}: TLS private key file holds no private key")
    return grpc.ssl_server_credentials([(key, chain)])
