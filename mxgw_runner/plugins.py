"""Building the plugin manager and the step registry from built-ins and plugins.

Order: hook specs, then built-ins registered *as plugins* (so they use the same
door as everyone else), then setuptools entry points (group ``mxgw_runner``),
then modules named with ``--plugin``. Every failure names the plugin.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pluggy

from mxgw_runner import hookspecs
from mxgw_runner.errors import PluginError
from mxgw_runner.steptypes import StepRegistry, StepType

BUILTIN_PLUGINS: tuple[str, ...] = ("mxgw_runner.steps",)

#: Set (to anything but empty or ``0``) to skip installed plugins: only built-ins and
#: ``--plugin`` modules load (a clean schema, or a run that must not see site plugins).
DISABLE_AUTOLOAD_ENV = "MXGW_RUN_DISABLE_PLUGIN_AUTOLOAD"


def autoload_enabled(env: Mapping[str, str] | None = None) -> bool:
    """False when :data:`DISABLE_AUTOLOAD_ENV` asks to skip installed (entry-point) plugins."""
    value = (os.environ if env is None else env).get(DISABLE_AUTOLOAD_ENV, "")
    return value.strip() in ("", "0")


def build_plugin_manager(
    plugins: Sequence[str] = (), *, entry_points: bool = True
) -> pluggy.PluginManager:
    """A PluginManager with the hook specs, the built-ins, entry points and ``plugins``.

    ``plugins`` are importable module names (``--plugin my_company.steps``).
    Raises :class:`PluginError` naming the plugin when one cannot be imported or
    registered.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for name in BUILTIN_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    if entry_points:
        try:
            pm.load_setuptools_entrypoints(hookspecs.ENTRY_POINT_GROUP)
        except Exception as exc:
            raise PluginError(_entry_point_failure(pm, exc)) from exc
    for name in plugins:
        load_plugin(pm, name)
    return pm


def _entry_point_failure(pm: pluggy.PluginManager, exc: Exception) -> str:
    """Name the installed plugin whose entry point failed (pluggy's error does not)."""
    for ep in importlib.metadata.entry_points(group=hookspecs.ENTRY_POINT_GROUP):
        if pm.has_plugin(ep.name) or pm.is_blocked(ep.name):
            continue
        dist = getattr(getattr(ep, "dist", None), "name", None) or "an installed package"
        try:
            ep.load()
        except Exception as load_exc:
            return (
                f"plugin {ep.name!r} (entry point {ep.value!r} from {dist}) could not be "
                f"loaded: {type(load_exc).__name__}: {load_exc}"
            )
        return f"plugin {ep.name!r} (entry point {ep.value!r} from {dist}) is not valid: {exc}"
    return f"an installed mxgw_runner plugin could not be loaded: {type(exc).__name__}: {exc}"


def load_plugin(pm: pluggy.PluginManager, module_name: str) -> None:
    """Import ``module_name`` and register it; a clear :class:`PluginError` on any failure."""
    if pm.has_plugin(module_name):
        return
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise PluginError(f"plugin {module_name!r} could not be imported: {exc}") from exc
    except Exception as exc:
        raise PluginError(
            f"plugin {module_name!r} failed while importing: {type(exc).__name__}: {exc}"
        ) from exc
    try:
        pm.register(module, name=module_name)
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {module_name!r} is not valid: {exc}") from exc
    except ValueError as exc:
        raise PluginError(f"plugin {module_name!r} could not be registered: {exc}") from exc


def _hook_list(impl: pluggy.HookImpl, hook: str, what: str) -> Sequence[Any]:
    """What one plugin's implementation of a list-returning ``hook`` returned (None: empty);
    a failure, or anything but a list or tuple, is a :class:`PluginError` naming the plugin."""
    try:
        returned = impl.function()
    except Exception as exc:
        raise PluginError(
            f"plugin {impl.plugin_name!r} failed in {hook}: {type(exc).__name__}: {exc}"
        ) from exc
    if returned is None:
        return ()
    if not isinstance(returned, list | tuple):
        raise PluginError(f"plugin {impl.plugin_name!r}: {hook} must return {what}")
    return returned


def collect_step_types(pm: pluggy.PluginManager) -> StepRegistry:
    """Call every plugin's ``mxgw_register_steps`` and build the registry.

    Plugins are asked one by one (built-ins first) so a clash or a bad return
    value names the plugin responsible.
    """
    registry = StepRegistry()
    impls = pm.hook.mxgw_register_steps.get_hookimpls()
    # Built-ins in their own order, then plugins by name: the same registry (and the same
    # published schema) whatever order the installed distributions are found in.
    builtin_first = sorted(
        impls,
        key=lambda impl: (
            impl.plugin_name not in BUILTIN_PLUGINS,
            BUILTIN_PLUGINS.index(impl.plugin_name) if impl.plugin_name in BUILTIN_PLUGINS else 0,
            impl.plugin_name,
        ),
    )
    for impl in builtin_first:
        for step_type in _hook_list(impl, "mxgw_register_steps", "a list of StepType"):
            if not isinstance(step_type, StepType):
                raise PluginError(
                    f"plugin {impl.plugin_name!r}: mxgw_register_steps returned "
                    f"{type(step_type).__name__}, not StepType"
                )
            registry.add(step_type, impl.plugin_name)
    return registry


def collect_report_writers(pm: pluggy.PluginManager, builtin: Sequence[Any] = ()) -> list[Any]:
    """``builtin`` and every plugin's ``mxgw_report_writers``, asked one by one so a failure
    or a ``--report-<name>`` already taken names the plugin."""
    writers: list[Any] = list(builtin)
    owners = {writer.name: "built-in" for writer in writers}
    for impl in reversed(pm.hook.mxgw_report_writers.get_hookimpls()):
        for writer in _hook_list(impl, "mxgw_report_writers", "a list of writers"):
            if not all(hasattr(writer, attr) for attr in ("name", "description", "write")):
                raise PluginError(
                    f"plugin {impl.plugin_name!r}: mxgw_report_writers returned "
                    f"{type(writer).__name__}, not a report writer (name, description, write)"
                )
            if writer.name in owners:
                raise PluginError(
                    f"plugin {impl.plugin_name!r} adds --report-{writer.name}, already added "
                    f"by {owners[writer.name]}"
                )
            owners[writer.name] = f"plugin {impl.plugin_name!r}"
            writers.append(writer)
    return writers


def default_registry() -> StepRegistry:
    """The registry of built-in steps only (no entry points): for tests and schema export."""
    return collect_step_types(build_plugin_manager(entry_points=False))


@dataclass(frozen=True, slots=True)
class StepSource:
    """One registered step and where it comes from, for ``mxgw-run --list-steps``."""

    name: str
    source: str
    description: str


def plugin_source(pm: pluggy.PluginManager, plugin_name: str) -> str:
    """``builtin``, ``NAME (DIST VERSION: MODULE)`` for an installed plugin, or
    ``MODULE (--plugin)`` for one named on the command line."""
    if plugin_name in BUILTIN_PLUGINS:
        return "builtin"
    plugin = pm.get_plugin(plugin_name)
    for loaded, dist in pm.list_plugin_distinfo():
        if loaded is plugin:
            module = getattr(plugin, "__name__", plugin_name)
            dist_name = dist.metadata["name"]
            if dist_name == plugin_name:
                return f"{dist_name} {dist.version} ({module})"
            return f"{plugin_name} ({dist_name} {dist.version}: {module})"
    return f"{plugin_name} (--plugin)"


def step_sources(pm: pluggy.PluginManager, registry: StepRegistry) -> list[StepSource]:
    """Every registered step with its source and the first line of its description."""
    rows = []
    for step_type in registry:
        lines = step_type.description.strip().splitlines()
        source = plugin_source(pm, registry.owner(step_type.name))
        rows.append(StepSource(step_type.name, source, lines[0] if lines else ""))
    return rows


def format_step_sources(rows: Sequence[StepSource]) -> str:
    """Aligned columns: step, source, description (one line each)."""
    name_width = max((len(r.name) for r in rows), default=4)
    source_width = max((len(r.source) for r in rows), default=6)
    lines = [f"{'step':<{name_width}}  {'source':<{source_width}}  description"]
    lines += [
        f"{r.name:<{name_width}}  {r.source:<{source_width}}  {r.description}".rstrip()
        for r in rows
    ]
    return "\n".join(lines) + "\n"
