"""The whole life of a user against moto's Cognito (server mode), on both shells."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

from midil_common.auth import TokenClaims
from midil_common.auth.users import HealthStatus, Registration, User
from midil_common.errors import (
    InvalidCredentialsError,
    SessionExpiredError,
    UserExistsError,
    UserNotConfirmedError,
)

PASSWORD = "Passw0rd!first"
NEW_PASSWORD = "N3w-Passw0rd!second"
RESET_PASSWORD = "Res3t-Passw0rd!third"


def test_life_cycle(shell: Any, cognito: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    # The kit's own loggers, at their most verbose (botocore's DEBUG log prints request bodies
    # itself, passwords included: that is botocore's, and off unless an application turns it on).
    caplog.set_level(logging.DEBUG, logger="midil")
    run = shell.run
    client = shell.make(
        "CognitoUserClient",
        cognito["pool_id"],
        cognito["client_id"],
        endpoint_url=cognito["endpoint_url"],
    )
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"

    registration = run(client.register(email, PASSWORD, given_name="Ada"))
    assert isinstance(registration, Registration) and registration.user_id
    assert not registration.confirmed
    with pytest.raises(UserExistsError):
        run(client.register(email, PASSWORD))
    with pytest.raises(UserNotConfirmedError):
        run(client.login(email, PASSWORD))
    # moto ignores confirmation codes: the admin API confirms, as an operator would.
    cognito["admin"].admin_confirm_sign_up(UserPoolId=cognito["pool_id"], Username=email)

    session = run(client.login(email, PASSWORD))
    assert session.is_authenticated()
    assert session.access_token and session.id_token and session.refresh_token
    assert session.expires_at is not None
    assert session.access_token not in repr(session)

    # The tokens Cognito returned verify with the pool's own authorizer.
    authorizer = shell.make(
        "CognitoJWTAuthorizer",
        cognito["pool_id"],
        "us-east-1",
        client_ids=[cognito["client_id"]],
        jwks_url=cognito["jwks_url"],
    )
    claims = run(authorizer.verify(run(session.get_access_token())))
    assert isinstance(claims, TokenClaims)
    assert claims.sub == registration.user_id and claims.token_use == "access"

    user = run(session.get_current_user())
    assert isinstance(user, User)
    assert (user.id, user.email, user.given_name) == (registration.user_id, email, "Ada")
    updated = run(session.update_profile(family_name="Lovelace"))
    assert updated.family_name == "Lovelace" and updated.display_name == "Ada Lovelace"

    with pytest.raises(InvalidCredentialsError):
        run(session.change_password("not-my-password", NEW_PASSWORD))
    run(session.change_password(PASSWORD, NEW_PASSWORD))
    with pytest.raises(InvalidCredentialsError):
        run(client.login(email, PASSWORD))
    second = run(client.login(email, NEW_PASSWORD))

    before = second.access_token
    run(second.refresh())
    assert second.access_token != before
    assert second.refresh_token  # Cognito's refresh answer has none: the session keeps its own
    kept_access, kept_refresh = second.access_token, second.refresh_token

    run(second.logout())
    assert not second.is_authenticated()
    with pytest.raises(SessionExpiredError):
        run(second.get_access_token())
    run(second.logout())  # twice: nothing to do
    # Cognito refuses the revoked refresh token of a session rebuilt from stored tokens.
    rebuilt = run(client.session_from_tokens(kept_access, kept_refresh))
    with pytest.raises(SessionExpiredError):
        run(rebuilt.refresh())

    run(client.forgot_password(email))
    run(client.reset_password(email, "123456", RESET_PASSWORD))
    with run_session(shell, client.login(email, RESET_PASSWORD)) as third:
        assert run(third.get_current_user()).email == email

    kit_log = "\n".join(
        r.getMessage() + repr(r.__dict__) for r in caplog.records if r.name.startswith("midil")
    )
    assert "logged in" in kit_log and "logged out" in kit_log
    for secret in (PASSWORD, NEW_PASSWORD, RESET_PASSWORD, kept_access, kept_refresh):
        assert secret not in kit_log


class run_session:
    """``with``/``async with`` of a session, logging out on exit, for either shell."""

    def __init__(self, shell: Any, login: Any) -> None:
        self.shell = shell
        self.session = shell.run(login)
        self.session.logout_on_exit = True

    def __enter__(self) -> Any:
        enter = getattr(self.session, "__aenter__", None) or self.session.__enter__
        return self.shell.run(enter())

    def __exit__(self, *exc: object) -> None:
        leave = getattr(self.session, "__aexit__", None) or self.session.__exit__
        self.shell.run(leave(None, None, None))
        assert not self.session.is_authenticated()


def test_health(shell: Any, cognito: dict[str, Any]) -> None:
    good = shell.make(
        "CognitoUserClient",
        cognito["pool_id"],
        cognito["client_id"],
        endpoint_url=cognito["endpoint_url"],
    )
    status = shell.run(good.health())
    assert isinstance(status, HealthStatus) and status.ok and status.status == "ok"
    unknown = shell.make(
        "CognitoUserClient",
        cognito["pool_id"],
        "no-such-client",
        endpoint_url=cognito["endpoint_url"],
    )
    assert shell.run(unknown.health()).status == "misconfigured"
    down = shell.make(
        "CognitoUserClient", cognito["pool_id"], "app", endpoint_url="http://127.0.0.1:9"
    )
    status = shell.run(down.health())
    assert not status.ok and status.status == "unavailable"
