"""The HTML commissioning record: content, escaping, masking, self-containment, accessible
markup and colour contrast, print rules, atomic writes (rendering: test_html_report_render)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest

from mxgw_runner.matching import ObservedEvent, ObservedStatus
from mxgw_runner.redact import Redactor
from mxgw_runner.reports.html import HtmlReportWriter, render_html, write_html_report
from mxgw_runner.reports.html_style import PALETTE
from mxgw_runner.results import CleanupResult, Outcome, RunResult, ScenarioResult, StepResult

T0 = datetime(2026, 11, 26, 19, 0, 0, tzinfo=UTC)
SECRET = "hunter22-secret"
BERLIN_WINTER = timezone(timedelta(hours=1), "CET")
INJECTION = '<script>document.title="pwned"</script><b id="injected">x</b>'


def sample_run(*, endpoint: str = "https://gw.plant.example:5001") -> RunResult:
    """Two scenarios: one with passed, failed (with a timeline), error and skipped checks
    and a failed cleanup; one that could not reach the gateway."""
    seen = ObservedEvent(
        "data-change",
        "Pump101.Speed.PV",
        41.7,
        192,
        T0 + timedelta(seconds=2),
        (ObservedStatus(-1, "Ok", "RespondingLmx", 0),),
        1.0,
        T0 + timedelta(seconds=2, milliseconds=15),
        17,
    )
    stale = ObservedEvent(
        "data-change",
        "Pump101.Speed.PV",
        INJECTION,
        24,
        T0 + timedelta(seconds=5),
        (),
        2.0,
        T0 + timedelta(seconds=5, milliseconds=3),
        18,
    )
    refused = ObservedEvent(
        "write-complete",
        "Pump101.Speed.PV",
        statuses=(ObservedStatus(0, "SecurityError", "RespondingLmx", 321),),
        arrival_wall=T0 + timedelta(seconds=6),
    )
    pump = ScenarioResult(
        file="scenarios/pump101.mxgw.yaml",
        name="Pump 101 setpoint <write> & read-back",
        tags=("commissioning", "area-a"),
        metadata={
            "checklist": "CK-014",
            "site": "North plant",
            "area": "A",
            "loop": {"tag": "FIC-101", "range": [0, 100]},
            "note": f"password is {SECRET}",
        },
        status=Outcome.FAILED,
        start=T0,
        duration=31.5,
        steps=[
            StepResult(
                1, "open-session", "ck-014", 11, status=Outcome.PASSED, start=T0, duration=0.012
            ),
            StepResult(
                2,
                "write",
                "Pump101.Speed.SP",
                17,
                status=Outcome.PASSED,
                duration=0.2,
                observed_value=SECRET,
                expected="write-complete ok",
            ),
            StepResult(
                3,
                "expect-event",
                "pv reaches the setpoint",
                19,
                status=Outcome.FAILED,
                start=T0,
                duration=30.0,
                observed_value=41.7,
                observed_quality=192,
                observed_timestamp=T0 + timedelta(seconds=2),
                expected="data-change of pv with value ≈ 42.5 ± 0.5, quality good",
                message="no matching data-change of pv within 30 s",
                timeline=[seen, stale, refused],
                closest=seen,
                closest_explanation="value 41.7 is not within 0.5 of 42.5",
            ),
            StepResult(
                4,
                "read",
                "Pump101.Mode",
                22,
                status=Outcome.ERROR,
                duration=0.05,
                message="session faulted: worker exited",
            ),
            StepResult(5, "close-session", "", 25, status=Outcome.SKIPPED),
        ],
        cleanup=[
            CleanupResult("restore", "Pump101.Speed.SP", Outcome.FAILED, "write refused", 0.1),
            CleanupResult("close-session", "session 1", Outcome.PASSED, None, 0.01),
        ],
    )
    unreachable = ScenarioResult(
        file="scenarios/valve7.mxgw.yaml",
        name="Valve 7 limit switches",
        metadata={"checklist": "CK-015", "site": "North plant"},
        status=Outcome.ERROR,
        message="gateway unreachable at gw.plant.example:5001",
        start=T0 + timedelta(seconds=40),
    )
    return RunResult(
        tool_version="0.1.0",
        start=T0,
        end=T0 + timedelta(seconds=42),
        endpoint=endpoint,
        gateway_version="1.2.3",
        protocol_version=3,
        scenarios=[pump, unreachable],
    )


def page_text(page: str) -> str:
    """The page's visible text, whitespace collapsed (what a reader sees)."""

    class _Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []
            self.skip = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.skip += tag in ("style", "script", "head")
            if tag != "wbr":  # a line-break opportunity, not a space
                self.parts.append(" ")

        def handle_endtag(self, tag: str) -> None:
            self.skip -= tag in ("style", "script", "head")
            self.parts.append(" ")

        def handle_data(self, data: str) -> None:
            if not self.skip:
                self.parts.append(data)

    parser = _Text()
    parser.feed(page)
    return re.sub(r"\s+", " ", "".join(parser.parts))


def elements(page: str) -> list[tuple[str, dict[str, str | None]]]:
    """Every start tag of the page with its attributes, as a browser's parser sees them."""

    class _Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[tuple[str, dict[str, str | None]]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.append((tag, dict(attrs)))

    parser = _Tags()
    parser.feed(page)
    return parser.tags


@pytest.fixture
def page() -> str:
    return render_html(
        sample_run(), Redactor([SECRET]), operator="A. Operator", local_tz=BERLIN_WINTER
    )


def test_every_check_with_its_result_expected_and_observed(page: str) -> None:
    text = page_text(page)
    for check in (
        "open-session ck-014",
        "write Pump101.Speed.SP",
        "expect-event pv reaches the setpoint",
        "read Pump101.Mode",
        "close-session",
    ):
        assert check in text
    row = text[text.index("expect-event pv reaches the setpoint") :]
    assert row.startswith(
        "expect-event pv reaches the setpoint line 19 FAIL "
        "data-change of pv with value ≈ 42.5 ± 0.5, quality good 41.7 good (192) "
        "2026-11-26 19:00:02.000 UTC 30.00 s"
    )
    assert "open-session ck-014 line 11 PASS" in text
    assert "read Pump101.Mode line 22 ERROR" in text
    assert "close-session line 25 SKIPPED" in text
    assert "Message session faulted: worker exited" in text


def test_failure_shows_message_location_timeline_and_closest_event(page: str) -> None:
    text = page_text(page)
    assert "Message no matching data-change of pv within 30 s" in text
    assert "Where scenarios/pump101.mxgw.yaml:19" in text
    assert "Why it did not match value 41.7 is not within 0.5 of 42.5" in text
    assert "Recent events of the item (oldest first)" in text
    assert (
        "1 data-change CLOSEST 41.7 good (192) 2026-11-26 19:00:02.000 UTC ok "
        "2026-11-26 19:00:02.015 UTC"
    ) in text
    assert "bad: communication-failure (24)" in text
    assert "write-complete — — — SecurityError by RespondingLmx, detail 321" in text
    assert page.count('<tr class="closest">') == 1


def test_cleanup_actions_with_their_outcome(page: str) -> None:
    text = page_text(page)
    assert "01 restore Pump101.Speed.SP FAIL write refused" in text
    assert "02 close-session session 1 PASS" in text
    # the summary counts the failed undo of the first scenario
    assert "1 FAILED of 2" in text


def test_run_metadata_in_utc_and_local_time(page: str) -> None:
    text = page_text(page)
    assert "Site North plant" in text
    assert "Checklist CK-014, CK-015" in text
    assert "Operator A. Operator" in text
    assert "Gateway endpoint https://gw.plant.example:5001" in text
    assert "Gateway version 1.2.3 (protocol 3)" in text
    assert "Tool mxgw-run 0.1.0" in text
    assert "Started (UTC) 2026-11-26 19:00:00.000 UTC" in text
    assert "Started (local) 2026-11-26 20:00:00 CET (UTC+01:00)" in text
    assert "Ended (UTC) 2026-11-26 19:00:42.000 UTC" in text
    assert "Ended (local) 2026-11-26 20:00:42 CET (UTC+01:00)" in text
    assert "Duration 42.00 s" in text
    # every scenario's own metadata, nested values included
    assert 'loop {"tag": "FIC-101", "range": [0, 100]}' in text
    assert "area A" in text
    assert "<title>Commissioning record — North plant — CK-014, CK-015</title>" in page


def test_summary_and_verdict(page: str) -> None:
    text = page_text(page)
    assert "Result: ERROR: some checks could not be made" in text
    assert "1. Pump 101 setpoint <write> & read-back FAIL 5 2 1 1 1 1 FAILED of 2" in text
    assert "2. Valve 7 limit switches ERROR 0 0 0 0 0 —" in text
    assert "Total (2 scenarios) 5 2 1 1 1 1 FAILED of 2" in text
    assert "gateway unreachable at gw.plant.example:5001" in text
    failed_only = sample_run()
    failed_only.scenarios = failed_only.scenarios[:1]
    assert "Result: FAIL: some checks did not hold" in page_text(render_html(failed_only))


def test_what_a_passing_step_did_and_an_unreported_gateway_version() -> None:
    run = sample_run()
    run.scenarios[0].steps[0].message = "session session-1f2e"
    run.gateway_version = None
    text = page_text(render_html(run))
    assert "open-session ck-014 line 11 · session session-1f2e PASS" in text
    assert "Gateway version not reported (protocol 3)" in text


def test_sign_off_block_names_the_operator(page: str) -> None:
    text = page_text(page)
    assert "Sign-off" in text
    assert "Role Name Signature Date Performed by A. Operator Witnessed by" in text
    assert "Remarks" in text


def test_operator_from_metadata_when_not_given() -> None:
    run = sample_run()
    run.scenarios[1].metadata = {**run.scenarios[1].metadata, "operator": "B. Tech"}
    assert "Performed by B. Tech" in page_text(render_html(run))
    assert "Performed by C. Lead" in page_text(render_html(run, operator="C. Lead"))


def test_user_text_is_escaped_and_inert(page: str) -> None:
    assert "<script" not in page.lower()
    assert not any(
        tag == "script" or attrs.get("id") == "injected" for tag, attrs in elements(page)
    )
    assert html.escape(INJECTION) in page
    assert "Pump 101 setpoint &lt;write&gt; &amp; read-back" in page
    assert all(not name.startswith("on") for _, attrs in elements(page) for name in attrs)


def test_control_characters_do_not_break_the_page() -> None:
    run = sample_run()
    run.scenarios[0].steps[2].message = "bad\x00byte\x1b[31m"
    text = page_text(render_html(run))
    assert "bad\ufffdbyte\ufffd[31m" in text


def test_secrets_are_masked_everywhere(page: str) -> None:
    assert SECRET not in page
    assert "password is ***" in page
    assert "&#x27;***&#x27;" in page  # the written value, shown as a quoted string
    run = sample_run(endpoint=f"https://op:{SECRET}@gw.plant.example:5001/?key={SECRET}")
    run.scenarios[0].name = f"uses {SECRET}"
    unmasked = render_html(run)
    assert f"op:{SECRET}" not in unmasked and f"key={SECRET}" not in unmasked
    assert "https://gw.plant.example:5001/" in unmasked


def test_secret_values_are_masked_before_they_are_quoted() -> None:
    secret = 'it\'s "secret"'  # repr() would escape the quote and hide it from a text mask
    run = sample_run()
    step = run.scenarios[0].steps[2]
    step.closest = step.timeline[0] = ObservedEvent("data-change", "pv", secret, 192)
    page = render_html(run, Redactor([secret, SECRET]))
    assert "secret" not in page_text(page).replace("Secrets are masked", "")
    assert "value=&#x27;***&#x27;" in page


def test_interrupted_run() -> None:
    run = sample_run()
    run.interrupted_by = "SIGINT"
    run.scenarios[0].status = Outcome.INTERRUPTED
    run.scenarios[0].steps[3].status = Outcome.INTERRUPTED
    text = page_text(render_html(run))
    assert "Result: INTERRUPTED: the results are incomplete" in text
    assert "The run was interrupted by SIGINT" in text
    assert "read Pump101.Mode line 22 INTERRUPTED" in text
    assert "Total (2 scenarios) 5 2 1 1 1" in text  # the interrupted check counts as an error


def test_a_run_with_nothing_checked_does_not_claim_a_pass() -> None:
    empty = RunResult(tool_version="0.1.0", start=T0)
    text = page_text(render_html(empty))
    assert "Result: NOTHING CHECKED: no check ran" in text
    assert "No scenario ran." in text
    assert "Ended (UTC) —" in text
    passed = sample_run()
    passed.scenarios = passed.scenarios[:1]
    passed.scenarios[0].status = Outcome.PASSED
    passed.scenarios[0].cleanup = []
    for step in passed.scenarios[0].steps:
        step.status = Outcome.PASSED
    assert "Result: PASS: every check passed" in page_text(render_html(passed))


def test_self_contained_no_external_assets(page: str) -> None:
    assert not re.search(
        r"(?i)(https?:)?//[a-z0-9]", page.replace("https://gw.plant.example:5001", "")
    )
    for tag, attrs in elements(page):
        assert tag not in ("script", "link", "img", "iframe", "object", "embed"), tag
        assert "src" not in attrs
        if tag == "a":
            assert (attrs.get("href") or "").startswith("#")
    assert "@import" not in page and "url(" not in page and "@font-face" not in page
    assert re.search(r"""http-equiv="Content-Security-Policy" content="default-src 'none';""", page)


def test_accessible_markup(page: str) -> None:
    tags = elements(page)
    assert tags[0] == ("html", {"lang": "en"})
    assert ("meta", {"charset": "utf-8"}) in tags
    assert "<title>" in page
    tables = page.split("<table")[1:]
    assert len(tables) == 8
    # every table has header cells: column headers, or row headers in a facts table
    assert all('<th scope="' in t[: t.find("<table") % len(t) or None] for t in tables)
    assert all(attrs.get("scope") in ("col", "row") for tag, attrs in tags if tag == "th")


def test_print_rules_a4_and_page_per_scenario(page: str) -> None:
    assert "@page { size: A4;" in page
    print_rules = page[page.index("@media print") :]
    assert "section.scenario { break-before: page; }" in print_rules
    assert "thead { display: table-header-group; }" in print_rules
    assert page.count('<section class="scenario"') == 2


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


@pytest.mark.parametrize("name", sorted(PALETTE))
def test_colours_meet_wcag_aa_contrast(name: str) -> None:
    fg, bg = PALETTE[name]
    light, dark = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    assert (light + 0.05) / (dark + 0.05) >= 4.5


def test_written_atomically_and_through_the_writer(tmp_path: Path) -> None:
    target = tmp_path / "record.html"
    HtmlReportWriter(operator="A. Operator", local_tz=BERLIN_WINTER).write(
        sample_run(), target, Redactor([SECRET])
    )
    written = target.read_text(encoding="utf-8")
    assert written.startswith("<!DOCTYPE html>") and written.rstrip().endswith("</html>")
    assert "Performed by" in written and SECRET not in written
    assert [p.name for p in tmp_path.iterdir()] == ["record.html"]


def test_no_partial_file_when_rendering_fails(tmp_path: Path) -> None:
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("cannot show this value")

    target = tmp_path / "record.html"
    target.write_text("previous record", encoding="utf-8")
    run = sample_run()
    run.scenarios[0].steps[3].observed_value = Unprintable()
    with pytest.raises(RuntimeError):
        write_html_report(run, target)
    assert target.read_text(encoding="utf-8") == "previous record"
    assert [p.name for p in tmp_path.iterdir()] == ["record.html"]


def test_no_partial_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "record.html"
    target.mkdir()  # the rename onto a directory fails after the data was written
    with pytest.raises(OSError):
        write_html_report(sample_run(), target)
    assert [p.name for p in tmp_path.iterdir()] == ["record.html"]
    assert target.is_dir() and not any(target.iterdir())
