"""Register and log in a user on the local AWS emulator's Cognito; one service token over OIDC."""

from __future__ import annotations

import asyncio
import logging

import boto3

import midil_async
import midil_sync
from midil_common.errors import InvalidCredentialsError
from midil_common.testing import LocalIssuer
from midil_common.testing.aws import MotoServer


def main() -> None:
    # The emulator's web server logs every call it serves (and a traceback for RevokeToken, which
    # it lacks: the kit then just drops the tokens); the demo shows the kit's side only.
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    with MotoServer() as aws:
        # The pool and app client an operator would create once (here on the local emulator).
        admin = boto3.client("cognito-idp", **aws.client_kwargs())
        pool = admin.create_user_pool(PoolName="demo")["UserPool"]["Id"]
        client_id = admin.create_user_pool_client(
            UserPoolId=pool,
            ClientName="web",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        print(f"local AWS emulator at {aws.endpoint_url}, user pool {pool}")

        with midil_sync.CognitoUserClient(
            pool, client_id, region=aws.region, endpoint_url=aws.endpoint_url
        ) as users:
            users.register("ada@example.com", "Str0ng!pass", name="Ada")
            users.confirm_registration("ada@example.com", "123456")  # the emulator takes any code
            with users.login("ada@example.com", "Str0ng!pass", logout_on_exit=True) as session:
                user = session.get_current_user()
                print(f"sync  logged in: {user.email} (token verified, sub={user.id[:8]}...)")
                session.refresh()
                print("sync  refreshed the session's tokens")
            try:
                users.login("ada@example.com", "wrong-password")
            except InvalidCredentialsError as exc:
                print(f"sync  wrong password refused: {type(exc).__name__}: {exc}")

        async def run_async() -> None:
            async with midil_async.CognitoUserClient(
                pool, client_id, region=aws.region, endpoint_url=aws.endpoint_url
            ) as users:
                session = await users.login("ada@example.com", "Str0ng!pass")
                user = await session.update_profile(name="Ada L.")
                print(f"async logged in and renamed: {user.email} -> {user.attributes.get('name')}")
                await session.logout()
                print(f"async logged out: authenticated={session.is_authenticated()}")

        asyncio.run(run_async())

    with LocalIssuer(audience="orders-api") as issuer:
        issuer.register_client("billing", "s3cret", scopes=["orders:read"])
        oauth = midil_sync.OAuthClient(issuer.url, "billing", "s3cret")
        token = oauth.client_credentials(scope="orders:read")
        active = oauth.introspect(token.access_token).active
        oauth.revoke(token.access_token)
        after = oauth.introspect(token.access_token).active
        print(f"OIDC: service token introspected active={active}, after revocation active={after}")
        oauth.close()


if __name__ == "__main__":
    main()
