"""The page builder of the HTML commissioning record: escaping, masking, times and tables.

Every piece of text that reaches the page goes through :meth:`PageBuilder.esc`: masked
by the redactor first (so a secret is found before escaping changes it), cleaned of
characters HTML cannot carry, then HTML-escaped.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo
from typing import Any

from mxgw_runner.matching import ObservedEvent, format_value
from mxgw_runner.redact import Redactor
from mxgw_runner.results import Outcome, json_value_deep

#: Labels shown for each outcome (text, so that a black-and-white print reads the same).
LABELS: dict[Outcome, str] = {
    Outcome.PASSED: "PASS",
    Outcome.FAILED: "FAIL",
    Outcome.ERROR: "ERROR",
    Outcome.SKIPPED: "SKIPPED",
    Outcome.INTERRUPTED: "INTERRUPTED",
}

# Code points HTML may not carry (controls other than tab/newline/CR, surrogates, noncharacters).
_INVALID_HTML = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
)
#: Outcomes that get a detail row (message, location, timeline) and count against the run.
FAILING = (Outcome.FAILED, Outcome.ERROR, Outcome.INTERRUPTED)
#: Shown where there is nothing to show (no value observed, no end time).
NONE = "—"


def _offset(value: datetime) -> str:
    delta = value.utcoffset()
    minutes = int(delta.total_seconds() // 60) if delta is not None else 0
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class PageBuilder:
    """Builds the page text; every piece of user text goes through :meth:`esc`."""

    def __init__(self, redactor: Redactor | None, local_tz: tzinfo | None) -> None:
        self.redactor = redactor
        self.local_tz = local_tz
        self.out: list[str] = []

    # ------------------------------------------------------------------ text

    def esc(self, value: object) -> str:
        """Masked, cleaned of characters HTML cannot carry, and escaped."""
        text = value if isinstance(value, str) else str(value)
        if self.redactor:
            text = self.redactor.text(text)
        return html.escape(_INVALID_HTML.sub("\ufffd", text), quote=True)

    def name(self, value: object) -> str:
        """Like :meth:`esc`, with line-break opportunities after the dots of item names."""
        return self.esc(value).replace(".", ".<wbr>")

    def event(self, event: ObservedEvent) -> str:
        """An event on one line, its value masked before it is quoted (quoting hides secrets)."""
        if self.redactor:
            event = event.replace(value=self.redactor.data(event.value))
        return self.esc(event.describe())

    def value(self, value: Any) -> str:
        """A process value as the runner shows it (strings quoted), masked and escaped."""
        if self.redactor:
            value = self.redactor.data(value)
        return f'<span class="mono">{self.esc(format_value(value))}</span>'

    def utc(self, value: datetime | None) -> str:
        """``2026-11-26 19:00:00.000 UTC``."""
        if value is None:
            return NONE
        text = _aware(value).astimezone(UTC).isoformat(sep=" ", timespec="milliseconds")
        day, time = text.removesuffix("+00:00").split(" ", 1)
        return (
            f'<span class="nw">{self.esc(day)}</span> <span class="nw">{self.esc(time)}</span> UTC'
        )

    def local(self, value: datetime | None) -> str:
        """``2026-11-26 20:00:00 CET (UTC+01:00)`` in the reader's (or the given) time zone."""
        if value is None:
            return NONE
        here = _aware(value).astimezone(self.local_tz)
        name = here.tzname() or ""
        zone = (
            f"{name} ({_offset(here)})"
            if name and not name.startswith(("UTC", "+", "-"))
            else (_offset(here))
        )
        return self.esc(f"{here.strftime('%Y-%m-%d %H:%M:%S')} {zone}")

    def badge(self, outcome: Outcome) -> str:
        return f'<span class="badge s-{outcome.value}">{LABELS[outcome]}</span>'

    def add(self, *parts: str) -> None:
        self.out.extend(parts)

    def facts(self, caption: str | None, rows: Iterable[tuple[str, str]]) -> None:
        """A two-column table of row headers and (already escaped) values."""
        self.add('<table class="facts">')
        if caption:
            self.add(f"<caption>{self.esc(caption)}</caption>")
        for key, shown in rows:
            self.add(f'<tr><th scope="row">{self.esc(key)}</th><td>{shown}</td></tr>')
        self.add("</table>")

    def head(self, *columns: tuple[str, int, str]) -> None:
        """Column headers: title, width in percent of the table (fixed layout), classes."""
        cells = "".join(
            f'<th scope="col" class="{f"w{width} {cls}".strip()}">{self.esc(title)}</th>'
            for title, width, cls in columns
        )
        self.add(f"<thead><tr>{cells}</tr></thead>")


def meta_text(value: Any) -> str:
    """A metadata value as text: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(json_value_deep(value), ensure_ascii=False)
