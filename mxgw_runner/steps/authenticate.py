"""``authenticate``: AuthenticateUser with a password read from the environment.

The password never appears in a scenario file, a report or a message: it is
read from the variable named by ``password-env`` and registered as a secret
before it is sent.
"""

from __future__ import annotations

from mxgw_runner.engine.context import engine_context
from mxgw_runner.engine.state import StepUsageError
from mxgw_runner.errors import StepFailed
from mxgw_runner.steptypes import StepContext, StepOutcome


async def run_authenticate(ctx: StepContext) -> StepOutcome:
    """AuthenticateUser; fails when the user id is 0; later writes name the user."""
    rc = engine_context(ctx)
    state = rc.require_state()
    server = state.require_server()
    user = str(ctx.params["user"])
    env_name = str(ctx.params["password-env"])
    password = rc.environ.get(env_name)
    if password is None:
        raise StepUsageError(
            f"password-env: the environment variable {env_name} is not set "
            f"(set it to the password of {user!r})"
        )
    rc.add_secret(password)
    user_id = await state.session.authenticate_user(server, user, password, timeout=ctx.timeout)
    if user_id == 0:
        raise StepFailed(
            f"AuthenticateUser refused {user!r} (user id 0): wrong user name or password",
            expected="a user id other than 0",
        )
    state.users[user] = user_id
    alias = ctx.params.get("as")
    if alias:
        state.users[str(alias)] = user_id
    return StepOutcome(message=f"user id {user_id}")
