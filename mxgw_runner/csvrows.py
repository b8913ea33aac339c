"""Checklist rows from a CSV file: a header row naming the columns, then a row per check.

Kept apart from the loader so the rules of the format (strict quoting, commas only, no
repeated column, no row wider than the header, a row limit) read in one place. Every
problem is a :class:`CsvProblem` whose text names the file as the scenario wrote it and,
where it can, the line.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from mxgw_runner import variables as V

#: Most rows read from a ``for-each`` or ``check-items`` CSV file.
MAX_CSV_ROWS = 100_000


class CsvProblem(ValueError):
    """The file cannot be used; the message names it (and the line, where known)."""


def parse_rows(text: str, written: str, max_rows: int = MAX_CSV_ROWS) -> list[Any]:
    """The rows of CSV ``text`` as mappings by column (cells parsed as scalars).

    ``written`` is the file name as the scenario gave it, for the messages. Blank rows are
    skipped; a short row is padded with empty cells.
    """
    # strict: a quote left open swallows the rest of the file into one cell otherwise
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise CsvProblem(f"CSV file {written!r} needs a header row naming its columns")
        columns = [h.strip() for h in header]
        if len(columns) == 1 and ";" in columns[0]:
            raise CsvProblem(
                f"CSV file {written!r} line 1: one column named {columns[0]!r}; "
                "cells must be separated by commas, not semicolons"
            )
        dupes = sorted({c for c in columns if columns.count(c) > 1})
        if dupes:
            raise CsvProblem(f"CSV file {written!r} repeats column(s) {', '.join(dupes)}")
        rows: list[Any] = []
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(columns):
                raise CsvProblem(
                    f"CSV file {written!r} line {number}: "
                    f"{len(cells)} cells for {len(columns)} columns"
                )
            cells += [""] * (len(columns) - len(cells))
            rows.append({c: V.parse_scalar(v) for c, v in zip(columns, cells, strict=True)})
            if len(rows) > max_rows:
                raise CsvProblem(f"CSV file {written!r} has more than {max_rows} rows")
        return rows
    except csv.Error as exc:
        message = str(exc)
        if message == "unexpected end of data":
            message = 'a quoted cell (") is still open at the end of the file'
        raise CsvProblem(f"CSV file {written!r} line {reader.line_num}: {message}") from None
