"""Loading and validating scenarios must not import grpc: ``mxgw-run --validate`` starts fast."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


def test_loader_reports_and_plugins_do_not_import_grpc(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("steps:\n  - wait: 1s\n", encoding="utf-8")
    code = textwrap.dedent(
        f"""
        import sys
        import mxgw_runner
        from mxgw_runner.loader import load_scenario
        from mxgw_runner.reports import builtin_writers
        from mxgw_runner.reports.console import ConsoleReporter
        from mxgw_runner.exitcodes import exit_code_for
        load_scenario({str(scenario)!r}, env={{}})
        builtin_writers()
        loaded = sorted(m for m in sys.modules if m == "grpc" or m.startswith("grpc."))
        print(",".join(loaded))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
