"""Masking secrets in anything a report writes.

A :class:`Redactor` is given secret texts (``secret-env`` values, passwords,
secret variables) and replaces every occurrence with ``***`` in strings and,
recursively, in report data. Longer secrets are replaced first so that one
secret containing another is masked whole.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
#: Secrets shorter than this are not masked: masking "1" would shred every report.
MIN_SECRET_LENGTH = 3


def _shown_forms(secret: str) -> set[str]:
    """The secret as it may appear in a message: as is, and escaped the way ``repr`` (either
    quote style) and JSON show text — a password with a quote or a backslash is shown
    escaped in "value 'p\\ss' is not ..." and must be masked there too."""
    return {
        secret,
        repr(secret)[1:-1],
        repr(secret + "'\"")[1:-4],  # single-quote style, quote escaped
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }


class Redactor:
    """Replaces known secret texts with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Add secret texts (ones shorter than :data:`MIN_SECRET_LENGTH` are ignored)."""
        changed = False
        for secret in secrets:
            if (
                isinstance(secret, str)
                and len(secret) >= MIN_SECRET_LENGTH
                and secret not in self._secrets
            ):
                self._secrets.update(_shown_forms(secret))
                changed = True
        if changed:
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def text(self, value: str) -> str:
        """``value`` with every secret replaced by ``***``."""
        if self._pattern is None:
            return value
        return self._pattern.sub(MASK, value)

    def data(self, value: Any) -> Any:
        """A copy of JSON-like data with secrets masked in every string (keys included)."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.data(k): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        if isinstance(value, int | float) and not isinstance(value, bool):
            return MASK if str(value) in self._secrets else value
        return value
