"""``include`` with ``vars:``: a misspelt variable is an error, not silently ignored."""

from __future__ import annotations

import pytest

from mxgw_runner.errors import ScenarioError
from mxgw_runner.loader import load_scenario

from .conftest import WriteFile

CONNECT = """\
vars: {client: mxgw-run}
steps:
  - open-session: {client-session-name: "${client}"}
"""


def test_a_misspelt_include_variable_is_located_and_names_the_real_ones(write: WriteFile) -> None:
    write("parts/connect.yaml", CONNECT)
    path = write("t.yaml", "steps:\n  - include: {file: parts/connect.yaml, vars: {clinet: ck}}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (d,) = info.value.diagnostics
    assert "'clinet' not used by 'parts/connect.yaml' (its vars: client)" in d.message
    assert (d.line, d.column) == (2, 56)  # at its value


def test_variables_for_the_included_file_or_the_files_it_includes_are_accepted(
    write: WriteFile,
) -> None:
    write("parts/connect.yaml", CONNECT)
    write("parts/outer.yaml", "steps:\n  - include: inner.yaml\n")
    write("parts/inner.yaml", "steps:\n  - open-session: {client-session-name: '${site}'}\n")
    path = write(
        "t.yaml",
        "steps:\n"
        "  - include: {file: parts/connect.yaml, vars: {client: ck}}\n"
        "  - include: {file: parts/outer.yaml, vars: {site: north}}\n",
    )
    assert len(load_scenario(path).steps) == 2
