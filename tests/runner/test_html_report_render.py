"""The HTML commissioning record as people meet it: rendered by headless Chromium (screen
and A4 print) and written by ``mxgw-run --report-html`` after a real run."""

from __future__ import annotations

import html
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from mxgw_runner.redact import Redactor
from mxgw_runner.reports.html import write_html_report

from .test_html_report import INJECTION, SECRET, page_text, sample_run

# --------------------------------------------------------------------------- headless Chromium

CHROMIUM = Path("/usr/bin/chromium")
CONSOLE_LINE = re.compile(r"^.*:CONSOLE[^\]]*\].*$", re.MULTILINE)


def chromium() -> Path:
    """Debian's Chromium; skipped on a developer machine without it, required in CI."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing in CI: .ci/run installs Debian's chromium package")
    pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium); CI runs this test")


def run_chromium(work: Path, page: Path, *options: str) -> str:
    """Open ``page`` in headless Chromium with ``options``; its stdout and stderr (the log)."""
    command = [
        str(chromium()),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={work / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        *options,
        page.as_uri(),
    ]
    env = {**os.environ, "HOME": str(work)}
    done = subprocess.run(
        command, cwd=work, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout + done.stderr


@pytest.fixture
def record(tmp_path: Path) -> Path:
    path = tmp_path / "record.html"
    write_html_report(sample_run(), path, Redactor([SECRET]), operator="A. Operator")
    return path


def test_chromium_renders_a_screenshot_without_console_errors(tmp_path: Path, record: Path) -> None:
    shot = tmp_path / "record.png"
    log = run_chromium(tmp_path, record, f"--screenshot={shot}", "--window-size=1280,2000")
    assert CONSOLE_LINE.findall(log) == []
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1280, 2000)
    assert len(data) > 20_000  # a blank page compresses to a few hundred bytes


def test_chromium_prints_a4_pdf_with_a_page_per_scenario(tmp_path: Path, record: Path) -> None:
    pdf = tmp_path / "record.pdf"
    log = run_chromium(tmp_path, record, "--no-pdf-header-footer", f"--print-to-pdf={pdf}")
    assert CONSOLE_LINE.findall(log) == []
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    # run and summary; scenario 1 (checks and cleanup); scenario 2 and the sign-off
    assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 3
    sizes = {m.groups() for m in re.finditer(rb"/MediaBox\s*\[0 0 ([\d.]+) ([\d.]+)\]", data)}
    assert sizes and all(abs(float(w) - 595) < 1 and abs(float(h) - 842) < 1 for w, h in sizes)


def test_chromium_keeps_user_text_inert_and_blocks_any_script(tmp_path: Path, record: Path) -> None:
    # A script slipped into the page (as if escaping had failed) must be refused by the
    # page's Content-Security-Policy, and the console check must see that refusal.
    page = record.read_text(encoding="utf-8")
    tampered = tmp_path / "tampered.html"
    tampered.write_text(
        page.replace("</body>", '<script>document.title = "ran";</script></body>'),
        encoding="utf-8",
    )
    log = run_chromium(tmp_path, tampered, "--dump-dom")
    refusals = CONSOLE_LINE.findall(log)
    assert refusals and all("Content Security Policy" in line for line in refusals)
    dom = log[log.index("<html") : log.index("</html>")]
    assert "<title>Commissioning record — North plant — CK-014, CK-015</title>" in dom
    assert '<b id="injected">' not in dom and '<script>document.title="pwned"' not in dom
    assert html.escape(INJECTION, quote=False) in dom


# --------------------------------------------------------------------------- a real run

REAL_SCENARIO = """
name: Int write and read-back <CK-021>
metadata: {site: South plant, checklist: CK-021, operator: R. Tech}
steps:
  - open-session: {}
  - register: {}
  - authenticate: {user: operator2, password-env: MXGW_HTML_TEST_PASSWORD}
  - add-item: {item: Types.Int, as: int}
  - advise: int
  - write: {item: int, value: 7, restore: true}
  - name: the value that was never written
    expect-event: {item: int, data-change: {value: 8}, within: 200ms}
"""


def test_mxgw_run_writes_the_record_of_a_real_run(tmp_path: Path) -> None:
    scenario = tmp_path / "ck-021.yaml"
    scenario.write_text(REAL_SCENARIO.lstrip(), encoding="utf-8")
    record = tmp_path / "ck-021.html"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from mxgw_runner.cli import main; sys.exit(main())",
            str(scenario),
            "--simulate",
            "--report-html",
            str(record),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "MXGW_HTML_TEST_PASSWORD": "operator2"},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    page = record.read_text(encoding="utf-8")
    text = page_text(page)
    assert "Result: FAIL: some checks did not hold" in text
    assert "Commissioning record — South plant — CK-021" in text
    assert "Int write and read-back <CK-021>" in text
    assert "Gateway endpoint 127.0.0.1:" in text
    assert "authenticate line 6 · user id 2 PASS" in text
    assert "write int line 9 · write completion ok PASS ok 7" in text
    assert (
        "expect-event the value that was never written line 10 FAIL data-change of int with value 8"
    ) in text
    assert "Why it did not match value 7 is not 8" in text
    assert re.search(r"Recent events .* data-change CLOSEST 7 good \(192\)", text)
    assert "01 restore int = 42 PASS" in text
    assert "Performed by R. Tech" in text
    assert "operator2" not in page  # the password (the user's name too, as its text)
