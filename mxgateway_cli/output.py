"""Where the CLI writes: one ``Output`` per run, which scrubs secrets from every line.

Commands never print; they hand a ``Result`` (a JSON document and the human lines) to
``Output``. With ``--json`` each document is written as one line of sorted-key JSON; without
it the human lines are. Every string written to stdout or stderr passes through the scrubber
first, so an API key or password cannot reach the terminal, a log or a CI report.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from google.protobuf.message import Message

from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway_cli.errors import CliError, ExitCode
from mxgateway_cli.render import enum_name, protocol_status_doc, raw_doc, statuses_doc

__all__ = ["REDACTED", "Output", "Result", "dumps"]

REDACTED = "<redacted>"


def dumps(doc: Any) -> str:
    """Deterministic JSON: sorted keys, ASCII only, no NaN (values are rendered first)."""
    return json.dumps(doc, sort_keys=True, ensure_ascii=True, allow_nan=False)


@dataclass
class Result:
    """What a command produced: the JSON document, human lines, the raw reply, and the exit
    code (not 0 when a bulk command's entries failed, or too few events arrived)."""

    doc: dict[str, Any]
    lines: list[str] = field(default_factory=list)
    raw: Message | None = None
    exit_code: ExitCode = ExitCode.OK


class Output:
    """Writes results, events and errors in the chosen format, secrets scrubbed."""

    def __init__(
        self,
        *,
        json_mode: bool = False,
        raw: bool = False,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> None:
        self.json_mode = json_mode
        self.raw = raw
        self._stdout = stdout if stdout is not None else sys.stdout
        self._stderr = stderr if stderr is not None else sys.stderr
        self._secrets: list[str] = []

    def add_secret(self, secret: str | None) -> None:
        """Never write ``secret``: every later line has it replaced by ``<redacted>``."""
        if secret and secret not in self._secrets:
            self._secrets.append(secret)
            # Longest first, so a secret containing another is replaced whole.
            self._secrets.sort(key=len, reverse=True)

    @property
    def secrets(self) -> list[str]:
        """The secrets registered so far (for the client's own scrubbing)."""
        return list(self._secrets)

    def scrub(self, text: str) -> str:
        """``text`` with every registered secret replaced."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def _write(self, stream: TextIO, text: str) -> None:
        stream.write(self.scrub(text) + "\n")
        stream.flush()

    def result(self, result: Result) -> None:
        """Write a command's result (JSON document or human lines) to stdout."""
        if self.json_mode:
            doc = dict(result.doc)
            if self.raw and result.raw is not None:
                doc["raw"] = raw_doc(result.raw)
            self._write(self._stdout, dumps(doc))
        else:
            for line in result.lines:
                self._write(self._stdout, line)

    def json_line(self, doc: dict[str, Any], raw: Message | None = None) -> None:
        """Write one JSON line (used for streamed events)."""
        if self.raw and raw is not None:
            doc = {**doc, "raw": raw_doc(raw)}
        self._write(self._stdout, dumps(doc))

    def line(self, text: str) -> None:
        """Write one human line to stdout."""
        self._write(self._stdout, text)

    def info(self, text: str) -> None:
        """A progress or notice line on stderr (never mixed into the JSON on stdout)."""
        self._write(self._stderr, text)

    def warn(self, text: str) -> None:
        """A warning on stderr."""
        self._write(self._stderr, f"warning: {text}")

    def error(self, error: CliError, *, command: str = "") -> None:
        """Report a failure: a JSON error object on stdout with ``--json``, else one line on
        stderr."""
        if self.json_mode:
            body: dict[str, Any] = {
                "code": error.code,
                "exit_code": int(error.exit_code),
                "message": error.message,
                "type": error.type,
            }
            if command:
                body["command"] = command
            for key, value in error.extra.items():
                if key != "reply":
                    body[key] = value
            reply = error.extra.get("reply")
            if reply is not None:
                body.update(_reply_error_fields(reply))
                if self.raw:
                    body["raw"] = raw_doc(reply)
            self._write(self._stdout, dumps({"error": body}))
        else:
            prefix = f"mxgw-py {command}: " if command else "mxgw-py: "
            self._write(self._stderr, f"{prefix}error: {error.message}")


def _reply_error_fields(reply: Any) -> dict[str, Any]:
    statuses: Iterable[Any] = reply.statuses
    return {
        "diagnostic_message": reply.diagnostic_message,
        "hresult": reply.hresult,
        "kind": enum_name(pb.MxCommandKind, reply.kind, "MX_COMMAND_KIND_"),
        "protocol_status": protocol_status_doc(reply.protocol_status),
        "statuses": statuses_doc(statuses),
    }
