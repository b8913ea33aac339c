"""Running one fault case through the real ``mxgw-run`` and checking what every case owes.

Every case writes a JSON report, a JUnit file and the HTML record into its own folder;
:func:`check_artifacts` validates them and greps them (and the console output) for every
secret the run was given. :class:`Artifacts` keeps them all, so the secrets test can grep
every artifact of every fault case once more at the end of the run.
"""

from __future__ import annotations

import json
import socket
import textwrap
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped, unused-ignore]
import xmlschema
from e2e.support import PASSWORDS, ROOT, CliResult, control, session_ids

from mxgw_sim.generated import mxgw_sim_control_pb2 as cpb
from mxgw_sim.testing import USER_KEY, SimProcess

REPORT_SCHEMA: dict[str, Any] = json.loads(
    (ROOT / "schemas" / "report.schema.json").read_text(encoding="utf-8")
)
JUNIT_XSD = ROOT / "tests" / "runner" / "data" / "junit.xsd"

#: A secret variable's value, given through ``${secret-env:MXGW_FAULT_TOKEN}``.
SECRET_TOKEN = "tok_5b1f0e97c3a24d6e"
SECRET_ENV = {"MXGW_FAULT_TOKEN": SECRET_TOKEN}
#: A wrong API key some cases send: still a secret.
WRONG_KEY = "mxgw_wrong_c0ffee00deadbeef42"
#: Every secret a fault case may hand to mxgw-run; none may appear in any artifact.
SECRETS: tuple[str, ...] = (USER_KEY, SECRET_TOKEN, WRONG_KEY, *PASSWORDS.values())

#: The scenario most cases run: a write with restore, then a long event wait.
#: Console lines: "07 write" once the write is done, "08 expect-event" once the wait ends.
FREE = "Pump102.Free"
WAITING = """
    name: {name}
    vars: {{token: "${{secret-env:MXGW_FAULT_TOKEN}}"}}
    timeouts: {{step: 30s, cleanup: {cleanup}}}
    steps:
      - open-session: {{client-session-name: "{client}-${{token}}"}}
      - register: {{}}
      - authenticate: {{user: operator2, password-env: MXGW_OPERATOR_PASSWORD}}
      - add-item: {{item: Pump102.Free, as: free}}
      - advise: free
      - expect-event: {{item: free, data-change: {{value: 0}}}}
      - write: {{item: free, value: 5, restore: true{write_extra}}}
      - expect-event: {{item: free, data-change: {{value: 1000}}, within: 60s}}
{more}"""
#: The cleanup of :data:`WAITING`, newest first.
CLEANUP_ORDER = ["restore", "unadvise", "remove-item", "unregister", "close-session"]


def waiting_scenario(
    client: str, *, cleanup: str = "10s", write_extra: str = "", more: str = ""
) -> str:
    """:data:`WAITING` for a client session name (``more``: extra step lines at the end)."""
    return WAITING.format(
        name=f"fault case {client}",
        client=client,
        cleanup=cleanup,
        write_extra=write_extra,
        more=textwrap.indent(textwrap.dedent(more), "      ") if more else "",
    )


def client_name(client: str) -> str:
    """The session name the simulator sees for :func:`waiting_scenario` (token resolved)."""
    return f"{client}-{SECRET_TOKEN}"


def session_of(sim: SimProcess, client: str) -> str:
    """The one open session of a fault case's scenario."""
    (session,) = session_ids(sim, client_name(client))
    return session


def report_args(folder: Path) -> list[str]:
    """``--report-json``/``--report-junit``/``--report-html`` into ``folder``."""
    return [
        "--report-json",
        str(folder / "report.json"),
        "--report-junit",
        str(folder / "report.xml"),
        "--report-html",
        str(folder / "report.html"),
    ]


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def set_latency(sim: SimProcess, session: str, seconds: float) -> None:
    """Command latency for one session (0 removes it)."""
    whole = int(seconds)
    request = cpb.SetLatencyRequest(session_id=session)
    request.command_latency.seconds = whole
    request.command_latency.nanos = int((seconds - whole) * 1e9)
    control(sim, "SetLatency", request)


@dataclass
class Artifacts:
    """Every file and console text the fault cases produced, by case."""

    texts: dict[str, str] = field(default_factory=dict)
    given: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def add(self, label: str, text: str) -> None:
        """Keep one artifact's text."""
        self.texts[label] = text

    def add_secrets(self, label: str, secrets: tuple[str, ...]) -> None:
        """Record what a case's run was given (the grep looks for exactly those)."""
        self.given[label] = secrets

    def leaks(self) -> list[str]:
        """``label: secret`` for every secret found in any artifact of the case given it."""
        return [
            f"{label}: {secret[:4]}…"
            for label, text in self.texts.items()
            for secret in self.given.get(label.split("/", 1)[0], SECRETS)
            if secret in text
        ]


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)


def html_tags(path: Path) -> set[str]:
    """The tag names used in an HTML file."""
    page = _Html()
    page.feed(path.read_text(encoding="utf-8"))
    return page.tags


def check_artifacts(
    case: str,
    result: CliResult,
    folder: Path,
    artifacts: Artifacts,
    *,
    reports: bool = True,
    secrets: tuple[str, ...] = SECRETS,
) -> dict[str, Any]:
    """Validate the case's JSON report, JUnit file and HTML record; keep and grep them all.

    Returns the JSON report. With ``reports=False`` only the console output is checked
    (a run that was refused before it could report). ``secrets``: what the run was given.
    """
    artifacts.add_secrets(case, secrets)
    artifacts.add(f"{case}/stdout", result.stdout)
    artifacts.add(f"{case}/stderr", result.stderr)
    data: dict[str, Any] = {}
    if reports:
        json_path, junit_path, html_path = (
            folder / "report.json",
            folder / "report.xml",
            folder / "report.html",
        )
        for path in (json_path, junit_path, html_path):
            assert path.is_file(), f"{path.name} missing:\n{result.output}"
            artifacts.add(f"{case}/{path.name}", path.read_text(encoding="utf-8"))
        data = json.loads(json_path.read_text(encoding="utf-8"))
        jsonschema.validate(data, REPORT_SCHEMA)
        xmlschema.XMLSchema(str(JUNIT_XSD)).validate(str(junit_path))
        assert {"html", "body"} <= html_tags(html_path)
        leftovers = [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
        assert leftovers == [], "temporary report files left behind"
    for label, text in artifacts.texts.items():
        if label.startswith(f"{case}/"):
            for secret in secrets:
                assert secret not in text, f"a secret ({secret[:4]}…) in {label}"
    return data


def cleanup_of(report: dict[str, Any], index: int = 0) -> dict[str, str]:
    """``action: status`` of a scenario's cleanup entries."""
    return {c["action"]: c["status"] for c in report["scenarios"][index]["cleanup"]}
