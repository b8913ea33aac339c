"""Publish the JSON schemas for editors and CI.

``python tools/export_schemas.py`` rebuilds ``mxgw_runner/schemas/scenario.schema.json``
from the built-in step registry and copies the packaged scenario, report and galaxy
(simulator) schemas to ``schemas/`` at the repository root (what
``# yaml-language-server: $schema=...`` points at). ``--check`` writes nothing and exits 1
when any of those files differs, so the published schemas can never drift from the code
(CI runs it).
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mxgw_runner.plugins import default_registry  # noqa: E402
from mxgw_runner.schema import build_scenario_schema  # noqa: E402
from mxgw_runner.schemas import REPORT_SCHEMA_FILE, SCENARIO_SCHEMA_FILE, render  # noqa: E402

PACKAGE_DIR = ROOT / "mxgw_runner" / "schemas"
GALAXY_SCHEMA = ROOT / "mxgw_sim" / "schemas" / "galaxy.schema.json"
PUBLISHED_DIR = ROOT / "schemas"


def expected_files() -> dict[Path, str]:
    """Every file this tool owns and the text it must hold."""
    scenario = render(build_scenario_schema(default_registry()))
    report = (PACKAGE_DIR / REPORT_SCHEMA_FILE).read_text(encoding="utf-8")
    return {
        PACKAGE_DIR / SCENARIO_SCHEMA_FILE: scenario,
        PUBLISHED_DIR / SCENARIO_SCHEMA_FILE: scenario,
        PUBLISHED_DIR / REPORT_SCHEMA_FILE: report,
        PUBLISHED_DIR / GALAXY_SCHEMA.name: GALAXY_SCHEMA.read_text(encoding="utf-8"),
    }


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) the schema files; 0 when all are up to date."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 on a difference")
    args = parser.parse_args(argv)
    stale = []
    for path, text in expected_files().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path)
        if args.check:
            diff = difflib.unified_diff(
                (current or "").splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"{path.relative_to(ROOT)} (committed)",
                tofile=f"{path.relative_to(ROOT)} (expected)",
                n=1,
            )
            sys.stdout.writelines(list(diff)[:60])
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    if args.check and stale:
        names = ", ".join(str(p.relative_to(ROOT)) for p in stale)
        print(f"out of date: {names}; run python tools/export_schemas.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
