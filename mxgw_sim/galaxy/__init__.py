"""The simulated Galaxy: model, loader, behaviours, security and the live runtime."""

from mxgw_sim.galaxy.changes import GalaxyChange
from mxgw_sim.galaxy.loader import (
    DEFAULT_GALAXY,
    GalaxyError,
    default_galaxy,
    galaxy_schema,
    load_galaxy,
    parse_galaxy,
)
from mxgw_sim.galaxy.model import (
    AttributeDef,
    Classification,
    Galaxy,
    GalaxySettings,
    ObjectDef,
    Permission,
    SecurityConfig,
    User,
)
from mxgw_sim.galaxy.outcomes import WriteOutcome
from mxgw_sim.galaxy.references import Resolved, Selector, Unresolved, UnresolvedKind
from mxgw_sim.galaxy.runtime import (
    AttributeKey,
    AttributeState,
    Clock,
    GalaxyControlError,
    GalaxyRuntime,
    Subscription,
)
from mxgw_sim.galaxy.security import WriteContext

__all__ = [
    "DEFAULT_GALAXY",
    "AttributeDef",
    "AttributeKey",
    "AttributeState",
    "Classification",
    "Clock",
    "Galaxy",
    "GalaxyChange",
    "GalaxyControlError",
    "GalaxyError",
    "GalaxyRuntime",
    "GalaxySettings",
    "ObjectDef",
    "Permission",
    "Resolved",
    "SecurityConfig",
    "Selector",
    "Subscription",
    "Unresolved",
    "UnresolvedKind",
    "User",
    "WriteContext",
    "WriteOutcome",
    "default_galaxy",
    "galaxy_schema",
    "load_galaxy",
    "parse_galaxy",
]
