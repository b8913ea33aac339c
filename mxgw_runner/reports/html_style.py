"""The stylesheet of the HTML commissioning record, inlined into every page.

Colours live in :data:`PALETTE` so that their contrast can be checked (WCAG AA:
4.5:1 for normal text); every status also carries a text label, so a page printed
in black and white reads the same. Print rules give A4 pages, a page per scenario,
table headers repeated on each page and rows that are not cut in half.
"""

from __future__ import annotations

from typing import Final

#: (text colour, background colour) pairs used on the page.
PALETTE: Final[dict[str, tuple[str, str]]] = {
    "body": ("#1a1a1a", "#ffffff"),
    "muted": ("#4d4d4d", "#ffffff"),
    "head": ("#1a1a1a", "#e6e6e6"),
    "rowhead": ("#1a1a1a", "#f3f3f3"),
    "detail": ("#1a1a1a", "#fafafa"),
    "closest": ("#1a1a1a", "#fff3c4"),
    "passed": ("#0b5a1f", "#e3f2e6"),
    "failed": ("#8b0000", "#fde8e8"),
    "error": ("#7a3e00", "#fff0d9"),
    "skipped": ("#404040", "#ececec"),
    "interrupted": ("#5b2a86", "#efe6f7"),
}

_STATUS_NAMES = ("passed", "failed", "error", "skipped", "interrupted")


def _status_rules() -> str:
    rules = []
    for name in _STATUS_NAMES:
        fg, bg = PALETTE[name]
        rules.append(f".s-{name} {{ color: {fg}; background: {bg}; }}")
    return "\n".join(rules)


def _width_rules() -> str:
    # column widths in percent for fixed-layout tables (no style attributes: the CSP forbids them)
    return "\n".join(f".w{n} {{ width: {n}%; }}" for n in range(1, 51))


def stylesheet() -> str:
    """The whole stylesheet (screen and print)."""
    body_fg, body_bg = PALETTE["body"]
    muted_fg, _ = PALETTE["muted"]
    head_fg, head_bg = PALETTE["head"]
    rowhead_fg, rowhead_bg = PALETTE["rowhead"]
    detail_fg, detail_bg = PALETTE["detail"]
    closest_fg, closest_bg = PALETTE["closest"]
    return f"""
:root {{ color-scheme: light; }}
* {{ box-sizing: border-box; }}
body {{
  font: 10pt/1.4 "Segoe UI", "DejaVu Sans", "Liberation Sans", Arial, sans-serif;
  color: {body_fg}; background: {body_bg};
  max-width: 1120px; margin: 0 auto; padding: 16px 24px 32px;
}}
h1 {{ font-size: 18pt; margin: 0 0 2px; }}
h2 {{ font-size: 13pt; margin: 22px 0 6px; padding-bottom: 2px;
  border-bottom: 2px solid {body_fg}; }}
h3 {{ font-size: 11pt; margin: 14px 0 4px; }}
h4 {{ font-size: 10pt; margin: 8px 0 2px; }}
p {{ margin: 4px 0; }}
.subtitle, .muted, footer {{ color: {muted_fg}; }}
table {{ border-collapse: collapse; width: 100%; margin: 4px 0 12px; }}
caption {{ text-align: left; font-weight: 700; padding: 2px 0 4px; }}
th, td {{ border: 1px solid #8c8c8c; padding: 3px 6px; text-align: left;
  vertical-align: top; overflow-wrap: anywhere; }}
thead th {{ overflow-wrap: normal; hyphens: manual; }}
thead th {{ color: {head_fg}; background: {head_bg}; }}
th[scope="row"] {{ color: {rowhead_fg}; background: {rowhead_bg}; width: 13em; }}
tfoot th, tfoot td {{ font-weight: 700; border-top: 2px solid {body_fg}; }}
.num {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
.mono, code {{ font-family: "DejaVu Sans Mono", Consolas, "Liberation Mono", monospace;
  font-size: 9pt; }}
table.grid {{ table-layout: fixed; }}
{_width_rules()}
.nw {{ white-space: nowrap; }}
.badge {{ display: inline-block; padding: 0 5px; border: 1px solid currentColor;
  border-radius: 3px; font-weight: 700; white-space: nowrap; }}
{_status_rules()}
.verdict {{ font-size: 13pt; font-weight: 700; padding: 8px 12px; margin: 12px 0;
  border: 2px solid currentColor; }}
.notice {{ padding: 6px 10px; margin: 6px 0; border-left: 4px solid currentColor; }}
tr.detail > td {{ color: {detail_fg}; background: {detail_bg}; padding: 4px 10px 8px 2.6em; }}
tr.detail table {{ margin: 4px 0 2px; font-size: 9pt; }}
tr.closest > td {{ color: {closest_fg}; background: {closest_bg}; }}
.where {{ font-size: 9pt; color: {muted_fg}; }}
dl.facts {{ display: grid; grid-template-columns: max-content 1fr; gap: 1px 10px;
  margin: 2px 0; }}
dl.facts dt {{ font-weight: 700; }}
dl.facts dd {{ margin: 0; overflow-wrap: anywhere; }}
table.signoff td {{ height: 3.2em; }}
table.signoff th[scope="row"] {{ width: 10em; }}
.remarks {{ border: 1px solid #8c8c8c; min-height: 6em; padding: 4px 6px; margin-top: 8px; }}
footer {{ margin-top: 24px; font-size: 8.5pt; border-top: 1px solid #8c8c8c; padding-top: 4px; }}
@page {{ size: A4; margin: 14mm 12mm 16mm; }}
@media print {{
  body {{ max-width: none; padding: 0; font-size: 9pt; }}
  table.grid {{ font-size: 8.5pt; }}
  tr.detail table.grid {{ font-size: 8pt; }}
  .mono, code {{ font-size: 8pt; }}
  * {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
  section.scenario {{ break-before: page; }}
  section.signoff {{ break-inside: avoid; }}
  thead {{ display: table-header-group; }}
  tr, .verdict, .notice, dl.facts, table.signoff, .keep {{ break-inside: avoid; }}
  h2, h3, h4, caption {{ break-after: avoid; }}
  a {{ color: inherit; text-decoration: none; }}
}}
""".strip()
