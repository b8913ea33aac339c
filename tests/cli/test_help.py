"""``--help`` is complete: every command listed, every option of a command explained."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from cli_helpers import run_cli

from mxgateway_cli.app import build_parser
from mxgateway_cli.commands import COMMANDS
from mxgateway_cli.errors import ExitCode


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no subcommands")


def _option_strings(parser: argparse.ArgumentParser) -> list[str]:
    return [opt for action in parser._actions for opt in action.option_strings]


@pytest.fixture(scope="module")
def helps() -> dict[str, str]:
    """The ``--help`` text of every command: what ``mxgw-py <command> --help`` prints (the
    same formatter; one command is also checked through the real executable below)."""
    return {name: parser.format_help() for name, parser in _subparsers().items()}


def test_command_help_through_the_executable(helps: dict[str, str]) -> None:
    run = run_cli("write", "--help").expect(0)
    assert run.stdout == helps["write"]
    assert run.stderr == ""


def test_top_level_help_lists_commands_and_exit_codes() -> None:
    run = run_cli("--help").expect(0)
    for command in COMMANDS:
        assert command.name in run.stdout
    for code in ("0 ", "2 ", "3 ", "4 ", "5 ", "6 ", "7 ", "8 ", "130 "):
        assert f"\n  {code}" in run.stdout, code
    assert "MXGATEWAY_ENDPOINT" in run.stdout
    assert "--api-key-env" in run.stdout


def test_every_command_help_mentions_every_option(helps: dict[str, str]) -> None:
    subparsers = _subparsers()
    assert set(subparsers) == {c.name for c in COMMANDS}
    for name, parser in subparsers.items():
        text = helps[name]
        options = _option_strings(parser)
        assert "--json" in options
        for option in options:
            assert option in text, f"{name} --help does not mention {option}"
        # every option has a help text, not just a usage entry
        for action in parser._actions:
            if action.option_strings:
                assert action.help, f"{name} {action.option_strings} has no help text"


def test_every_command_help_has_an_example(helps: dict[str, str]) -> None:
    for name, text in helps.items():
        assert "examples:" in text
        assert f"mxgw-py {name}" in text.split("examples:", 1)[1], name


def test_connecting_commands_share_the_connection_options(helps: dict[str, str]) -> None:
    shared = [
        "--endpoint",
        "--plaintext",
        "--tls",
        "--ca-file",
        "--server-name-override",
        "--api-key-env",
        "--api-key",
        "--call-timeout",
        "--connect-timeout",
        "--json",
        "--raw",
    ]
    for command in COMMANDS:
        if not command.connects:
            continue
        text = helps[command.name]
        for option in shared:
            assert option in text, (command.name, option)
        # the API key option warns about process lists and points to the env form
        assert "process" in text and "prefer --api-key-env" in text.replace("\n", " ")


def test_stream_commands_timeout_is_the_event_wait() -> None:
    stream = _subparsers()["stream-events"]
    timeout = next(a for a in stream._actions if "--timeout" in a.option_strings)
    assert timeout.dest == "timeout"
    plain = _subparsers()["register"]
    call = next(a for a in plain._actions if "--timeout" in a.option_strings)
    assert call.dest == "call_timeout"


def test_docs_cover_every_command_option_and_exit_code() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    for name, parser in _subparsers().items():
        assert f"### {name}" in docs or f"[`{name}`]" in docs, name
        for option in _option_strings(parser):
            if option not in ("-h", "--help"):
                assert f"`{option}" in docs, f"docs/cli.md does not mention {name} {option}"
    for code in ExitCode:
        assert f"| {int(code)} |" in docs, code
