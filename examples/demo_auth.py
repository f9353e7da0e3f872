"""Verify a token from a local OpenID Connect issuer with both shells, and refuse a bad one."""

from __future__ import annotations

import asyncio

import midil_async
import midil_sync
from midil_common.errors import InvalidTokenError
from midil_common.testing import LocalIssuer


def main() -> None:
    with LocalIssuer(audience="orders-api") as issuer:
        print(f"auth: local issuer at {issuer.url}")
        token = issuer.mint(sub="alice", scope="orders:read orders:write")

        with midil_sync.JWTAuthorizer(issuer.url, audience="orders-api") as authorizer:
            claims = authorizer.verify(token)
            print(f"auth: sync  verified sub={claims.sub} scopes={sorted(claims.scopes)}")
            for label, bad in (
                ("expired", issuer.mint(sub="alice", expires_in=-60)),
                ("wrong audience", issuer.mint(sub="alice", aud="billing-api")),
                ("forged signature", issuer.mint(sub="alice", key="foreign")),
            ):
                try:
                    authorizer.verify(bad)
                except InvalidTokenError as exc:
                    print(f"auth: sync  refused {label}: {type(exc).__name__}: {exc}")

        async def run_async() -> None:
            async with midil_async.JWTAuthorizer(issuer.url, audience="orders-api") as authorizer:
                claims = await authorizer.verify(token)
                print(f"auth: async verified sub={claims.sub} exp={claims.exp:.0f}")

        asyncio.run(run_async())
        print(
            f"auth: issuer served {issuer.request_count('discovery')} discovery and "
            f"{issuer.request_count('jwks')} JWKS requests"
        )


if __name__ == "__main__":
    main()
