"""Plugins: built-ins go through the hook, --plugin modules add steps, failures name the plugin."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mxgw_runner.errors import PluginError
from mxgw_runner.loader import check_scenario
from mxgw_runner.plugins import build_plugin_manager, collect_step_types

from .conftest import WriteFile

PLUGIN = """
from mxgw_runner.hookspecs import hookimpl
from mxgw_runner.steptypes import StepType

calls = []


@hookimpl
def mxgw_register_steps():
    return [
        StepType(
            "set-quality",
            {
                "type": "object",
                "properties": {"item": {"type": "string"}, "quality": {"$ref": "#/$defs/quality"}},
                "required": ["item", "quality"],
                "additionalProperties": False,
            },
            description="Force an attribute's quality in the simulator.",
        )
    ]


@hookimpl
def mxgw_step_finish(scenario, step, result):
    calls.append((step, result))
"""


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def make_module(directory: Path, name: str, text: str) -> str:
    (directory / f"{name}.py").write_text(textwrap.dedent(text), encoding="utf-8")
    return name


def test_builtins_are_registered_as_plugins() -> None:
    pm = build_plugin_manager(entry_points=False)
    assert pm.has_plugin("mxgw_runner.steps")
    registry = collect_step_types(pm)
    assert registry.owner("write") == "mxgw_runner.steps"


def test_plugin_step_is_usable_in_scenarios(plugin_dir: Path, write: WriteFile) -> None:
    name = make_module(plugin_dir, "mxgw_test_plugin_ok", PLUGIN)
    pm = build_plugin_manager([name], entry_points=False)
    registry = collect_step_types(pm)
    assert registry.owner("set-quality") == name
    ok = write("ok.yaml", "steps:\n  - set-quality: {item: a, quality: bad}\n")
    scenario, problems = check_scenario(ok, registry=registry, env={})
    assert scenario is not None and not problems
    assert scenario.steps[0].kind == "set-quality"
    bad = write("bad.yaml", "steps:\n  - set-quality: {item: a, qualty: bad}\n")
    _, problems = check_scenario(bad, registry=registry, env={})
    assert [(p.column, p.message) for p in problems] == [
        (18, "missing required key 'quality'"),
        (28, "unknown key 'qualty' — did you mean 'quality'?"),
    ]
    pm.hook.mxgw_step_finish(scenario=None, step="s", result="r")
    assert pm.get_plugin(name).calls == [("s", "r")]


def test_import_failure_names_the_plugin(plugin_dir: Path) -> None:
    with pytest.raises(PluginError, match="plugin 'no_such_mxgw_plugin' could not be imported"):
        build_plugin_manager(["no_such_mxgw_plugin"], entry_points=False)
    name = make_module(plugin_dir, "mxgw_test_plugin_broken", "raise RuntimeError('boom')\n")
    with pytest.raises(PluginError, match="'mxgw_test_plugin_broken' failed while importing: "):
        build_plugin_manager([name], entry_points=False)


def test_clashing_step_names_name_both_plugins(plugin_dir: Path) -> None:
    name = make_module(
        plugin_dir,
        "mxgw_test_plugin_clash",
        """
        from mxgw_runner.hookspecs import hookimpl
        from mxgw_runner.steptypes import StepType

        @hookimpl
        def mxgw_register_steps():
            return [StepType("write", {})]
        """,
    )
    pm = build_plugin_manager([name], entry_points=False)
    with pytest.raises(
        PluginError,
        match=r"plugin 'mxgw_test_plugin_clash' registers step 'write', "
        r"already registered by built-in 'mxgw_runner\.steps'",
    ):
        collect_step_types(pm)


def test_bad_return_values_name_the_plugin(plugin_dir: Path) -> None:
    name = make_module(
        plugin_dir,
        "mxgw_test_plugin_badreturn",
        """
        from mxgw_runner.hookspecs import hookimpl

        @hookimpl
        def mxgw_register_steps():
            return ["write"]
        """,
    )
    with pytest.raises(PluginError, match=r"'mxgw_test_plugin_badreturn'.*str, not StepType"):
        collect_step_types(build_plugin_manager([name], entry_points=False))


def test_misspelt_hook_is_refused(plugin_dir: Path) -> None:
    name = make_module(
        plugin_dir,
        "mxgw_test_plugin_typo",
        """
        from mxgw_runner.hookspecs import hookimpl

        @hookimpl
        def mxgw_register_step():
            return []
        """,
    )
    pm = build_plugin_manager([name], entry_points=False)
    with pytest.raises(Exception, match="mxgw_register_step"):
        pm.check_pending()


def install_entry_point(directory: Path, name: str, module: str) -> None:
    """A minimal installed distribution declaring an ``mxgw_runner`` entry point."""
    info = directory / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[mxgw_runner]\n{name} = {module}\n")


def test_entry_point_plugins_are_loaded(plugin_dir: Path) -> None:
    module = make_module(plugin_dir, "mxgw_test_ep_module", PLUGIN)
    install_entry_point(plugin_dir, "mxgw-test-ep", module)
    registry = collect_step_types(build_plugin_manager())
    assert registry.owner("set-quality") == "mxgw-test-ep"


def test_broken_entry_point_is_named(plugin_dir: Path) -> None:
    install_entry_point(plugin_dir, "mxgw-test-ep-broken", "mxgw_no_such_module_here")
    with pytest.raises(PluginError, match=r"plugin 'mxgw-test-ep-broken' \(entry point"):
        build_plugin_manager()
