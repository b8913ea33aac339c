"""Who may write what: ArchestrA security classifications checked against Galaxy users.

The rules (docs/galaxy.md has the table): with security off anyone writes anything that is
writable. With it on, FreeAccess needs nobody; Operate, Tune and Configure need a user with
that permission (Write with a user id, or an item advised supervisory when the setting allows
it); SecuredWrite needs WriteSecured by a user with ``secured-write`` (verifier the same user
or none); VerifiedWrite needs WriteSecured by such a user and a *different* verifier with
``verify``. ViewOnly and read-only attributes are never writable; Configure attributes also
need their object off scan. Those two are operational errors, the rest security errors.
"""

from __future__ import annotations

from dataclasses import dataclass

from mxgw_sim.galaxy.model import Classification, Permission, SecurityConfig, User

__all__ = ["SecurityVerdict", "WriteContext", "check_write_security"]


@dataclass(frozen=True, slots=True)
class WriteContext:
    """Who is writing, as the worker knows it from the command and the connection."""

    user: User | None = None
    verifier: User | None = None
    #: WriteSecured / WriteSecured2 rather than Write / Write2.
    secured: bool = False
    #: The item was advised with AdviseSupervisory.
    supervisory: bool = False
    #: The user id given did not belong to an authenticated user of this connection.
    unknown_user: bool = False
    #: Source timestamp given with Write2 (Unix seconds), else None for "now".
    timestamp: float | None = None


@dataclass(frozen=True, slots=True)
class SecurityVerdict:
    """None-or-reason: ``allowed`` False carries a human reason."""

    allowed: bool
    reason: str = ""


_NEEDS = {
    Classification.OPERATE: Permission.OPERATE,
    Classification.TUNE: Permission.TUNE,
    Classification.CONFIGURE: Permission.CONFIGURE,
}


def _deny(reason: str) -> SecurityVerdict:
    return SecurityVerdict(False, reason)


def check_write_security(
    security: SecurityConfig,
    classification: Classification,
    ctx: WriteContext,
    *,
    supervisory_bypass: bool,
) -> SecurityVerdict:
    """Whether Galaxy security lets ``ctx`` write an attribute of ``classification``.

    ViewOnly and read-only are not decided here (they are operational errors).
    """
    if not security.enabled or classification is Classification.FREE_ACCESS:
        return SecurityVerdict(True)
    if ctx.unknown_user:
        return _deny("the user id is not authenticated on this connection")
    needed = _NEEDS.get(classification)
    if needed is not None:
        if ctx.supervisory and supervisory_bypass and not ctx.secured:
            return SecurityVerdict(True)
        if ctx.user is None:
            return _deny(f"{classification.value} needs a user with {needed.value} permission")
        if needed not in ctx.user.permissions:
            return _deny(f"user {ctx.user.name} lacks the {needed.value} permission")
        return SecurityVerdict(True)
    if classification in (Classification.SECURED_WRITE, Classification.VERIFIED_WRITE):
        if not ctx.secured:
            return _deny(f"{classification.value} needs WriteSecured")
        if ctx.user is None:
            return _deny(f"{classification.value} needs a signed-in user")
        if Permission.SECURED_WRITE not in ctx.user.permissions:
            return _deny(f"user {ctx.user.name} lacks the secured-write permission")
        if classification is Classification.SECURED_WRITE:
            if ctx.verifier is not None and ctx.verifier.name != ctx.user.name:
                return _deny("SecuredWrite is signed by the writing user only")
            return SecurityVerdict(True)
        if ctx.verifier is None:
            return _deny("VerifiedWrite needs a verifier")
        if ctx.verifier.name.lower() == ctx.user.name.lower():
            return _deny("the verifier must be a different user")
        if Permission.VERIFY not in ctx.verifier.permissions:
            return _deny(f"verifier {ctx.verifier.name} lacks the verify permission")
        return SecurityVerdict(True)
    return SecurityVerdict(True)  # ViewOnly is refused before security is consulted
