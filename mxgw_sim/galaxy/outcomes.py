"""Results of writes and the MXAccess detail codes the simulator uses.

MXAccess publishes no table of detail codes. 321 (security) and 902 (operational) appear in
upstream's golden write-failure reply; the rest are the simulator's own choice, listed in
docs/galaxy.md so scenarios can match them.
"""

from __future__ import annotations

from dataclasses import dataclass

from mxgateway import MxStatusCategory, MxStatusSource

__all__ = [
    "DETAIL_BARE_ARRAY",
    "DETAIL_CONVERSION",
    "DETAIL_NOT_DEPLOYED",
    "DETAIL_ON_SCAN",
    "DETAIL_READ_ONLY",
    "DETAIL_SECURITY",
    "DETAIL_UNKNOWN_REFERENCE",
    "WriteOutcome",
]

#: Write refused by Galaxy security (user, permission, verifier).
DETAIL_SECURITY = 321
#: Write to a read-only or ViewOnly attribute.
DETAIL_READ_ONLY = 902
#: Write to a Configure attribute of an object that is on scan.
DETAIL_ON_SCAN = 903
#: The written value cannot be converted to the attribute's type.
DETAIL_CONVERSION = 1002
#: An array attribute was referenced without brackets (observed on real Galaxies).
DETAIL_BARE_ARRAY = 1003
#: The reference names no object or attribute.
DETAIL_UNKNOWN_REFERENCE = 1001
#: The object is not deployed.
DETAIL_NOT_DEPLOYED = 1004


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """How a write ended: OK, or a category, who detected it, a detail code and a reason."""

    category: MxStatusCategory = MxStatusCategory.OK
    detected_by: MxStatusSource = MxStatusSource.RESPONDING_AUTOMATION_OBJECT
    detail: int = 0
    reason: str = ""

    @property
    def ok(self) -> bool:
        """True when the write was applied."""
        return self.category is MxStatusCategory.OK

    @classmethod
    def success(cls) -> WriteOutcome:
        """The write was applied."""
        return cls()
