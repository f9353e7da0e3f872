"""Cognito tokens minted by moto's Cognito (server mode) against both shells."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from midil_common.errors import (
    ConfigError,
    InvalidAudienceError,
    InvalidClaimError,
    InvalidIssuerError,
    PermissionDeniedError,
)

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def cognito() -> Iterator[dict[str, Any]]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "cognito-idp",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    pool_id = client.create_user_pool(PoolName=f"pool-{uuid.uuid4().hex[:6]}")["UserPool"]["Id"]
    app = client.create_user_pool_client(
        UserPoolId=pool_id, ClientName="app", ExplicitAuthFlows=["USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    client.admin_create_user(
        UserPoolId=pool_id, Username="alice", TemporaryPassword="Tmp-Passw0rd!"
    )
    client.admin_set_user_password(
        UserPoolId=pool_id, Username="alice", Password="Str0ng-Passw0rd!", Permanent=True
    )
    client.create_group(GroupName="admins", UserPoolId=pool_id)
    client.admin_add_user_to_group(UserPoolId=pool_id, Username="alice", GroupName="admins")
    auth = client.initiate_auth(
        ClientId=app,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": "Str0ng-Passw0rd!"},
    )["AuthenticationResult"]
    yield {
        "pool_id": pool_id,
        "client_id": app,
        "access": auth["AccessToken"],
        "id": auth["IdToken"],
        "jwks_url": f"{endpoint}/{pool_id}/.well-known/jwks.json",
    }
    server.stop()


def test_access_token_verifies(shell: Any, cognito: dict[str, Any]) -> None:
    authorizer = shell.cognito(
        cognito["pool_id"], REGION, client_ids=[cognito["client_id"]], jwks_url=cognito["jwks_url"]
    )
    assert authorizer.issuer == f"https://cognito-idp.{REGION}.amazonaws.com/{cognito['pool_id']}"
    claims = shell.verify(authorizer, cognito["access"])
    assert claims.token_use == "access"
    assert claims.client_id == cognito["client_id"]
    assert claims.iss == authorizer.issuer
    assert claims.sub


def test_id_token_refused_where_access_token_required(shell: Any, cognito: dict[str, Any]) -> None:
    authorizer = shell.cognito(
        cognito["pool_id"], client_ids=cognito["client_id"], jwks_url=cognito["jwks_url"]
    )
    # An id token carries aud, which an access-token authorizer (no audience) refuses first.
    with pytest.raises((InvalidClaimError, InvalidAudienceError)) as info:
        shell.verify(authorizer, cognito["id"])
    assert isinstance(info.value, InvalidAudienceError) or info.value.claim == "token_use"


def test_id_token_verifies_with_token_use_id(shell: Any, cognito: dict[str, Any]) -> None:
    authorizer = shell.cognito(
        cognito["pool_id"],
        REGION,
        client_ids=[cognito["client_id"]],
        token_use="id",
        jwks_url=cognito["jwks_url"],
    )
    claims = shell.verify(authorizer, cognito["id"])
    assert claims.token_use == "id" and claims.aud == (cognito["client_id"],)
    # An access token has no aud, which the id-token audience check refuses first.
    with pytest.raises((InvalidClaimError, InvalidAudienceError)):
        shell.verify(authorizer, cognito["access"])
    other = shell.cognito(
        cognito["pool_id"], client_ids=["other-app"], token_use="id", jwks_url=cognito["jwks_url"]
    )
    with pytest.raises(InvalidAudienceError):
        shell.verify(other, cognito["id"])


def test_client_id_and_groups(shell: Any, cognito: dict[str, Any]) -> None:
    wrong_client = shell.cognito(
        cognito["pool_id"], client_ids=["someone-else"], jwks_url=cognito["jwks_url"]
    )
    with pytest.raises(InvalidAudienceError):
        shell.verify(wrong_client, cognito["access"])
    id_auth = shell.cognito(
        cognito["pool_id"],
        client_ids=[cognito["client_id"]],
        token_use="id",
        groups=["admins"],
        jwks_url=cognito["jwks_url"],
    )
    claims = shell.verify(id_auth, cognito["id"])
    assert claims.in_group("admins")
    needs_other = shell.cognito(
        cognito["pool_id"],
        client_ids=[cognito["client_id"]],
        token_use="id",
        groups=["auditors"],
        jwks_url=cognito["jwks_url"],
    )
    with pytest.raises(PermissionDeniedError):
        shell.verify(needs_other, cognito["id"])


def test_other_pool_is_refused(shell: Any, cognito: dict[str, Any]) -> None:
    authorizer = shell.cognito(f"{REGION}_OtherPool1", jwks_url=cognito["jwks_url"])
    with pytest.raises(InvalidIssuerError):
        shell.verify(authorizer, cognito["access"])


@pytest.mark.parametrize(
    ("pool", "region"),
    [("nope", None), ("eu-west-1_", None), ("eu-west-1_abc", "us-east-1"), ("EU-west-1_x1", None)],
)
def test_pool_id_and_region_rules(shell: Any, pool: str, region: str | None) -> None:
    with pytest.raises(ConfigError):
        shell.cognito(pool, region)


def test_token_use_must_be_known(shell: Any) -> None:
    with pytest.raises(ConfigError):
        shell.cognito("eu-west-1_abc", token_use="refresh")
