"""``midil token``: decode (unverified), verify, fetch.

Tokens are read from stdin (or a hidden prompt on a terminal) unless given as an argument, so they
stay out of the shell history; nothing prints a token's signature. ``fetch`` reads the client
secret from ``MIDIL_SERVICE_AUTH__CLIENT_SECRET`` or a hidden prompt (or stdin's first line when
piped), never from an argument, and prints the access token only with ``--show-token``.
"""

from __future__ import annotations

import hashlib
import os
import time
from typing import TYPE_CHECKING, Any, cast

import click

from midil_sync._cli._common import (
    CommandFailed,
    echo_json,
    output_option,
    printable,
    read_secret_line,
    render_time,
    shown,
    text_block,
    token_argument_value,
)

if TYPE_CHECKING:
    from midil_common.auth.oauth import AuthMethod

__all__ = ["group"]

SECRET_VARIABLE = "MIDIL_SERVICE_AUTH__CLIENT_SECRET"
_TIME_CLAIMS = ("exp", "iat", "nbf", "auth_time")


@click.group("token")
def group() -> None:
    """Look at, verify and obtain JWTs."""


def _claim_rows(claims: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (name, render_time(value) if name in _TIME_CLAIMS else shown(value))
        for name, value in claims.items()
    ]


@group.command("decode")
@click.argument("token", required=False, metavar="[TOKEN|-]")
@output_option
def decode(token: str | None, output: str) -> None:
    """Show a token's header and claims WITHOUT checking its signature.

    The token is read from stdin when TOKEN is '-' or absent (a hidden prompt on a terminal),
    which keeps it out of the shell history. Nothing here is verified: use 'midil token verify'
    before trusting any claim. The signature is never printed.
    """
    from midil_common.auth import decode_payload, parse_token

    parsed = parse_token(token_argument_value(token))
    claims = decode_payload(parsed)
    if output == "json":
        echo_json({"verified": False, "header": parsed.header, "claims": claims})
        return
    click.echo("UNVERIFIED: the signature was not checked; do not trust these claims.")
    click.echo("header")
    text_block([(k, shown(v)) for k, v in parsed.header.items()], indent="  ")
    click.echo("claims")
    text_block(_claim_rows(claims), indent="  ")
    exp = claims.get("exp")
    if isinstance(exp, (int, float)) and not isinstance(exp, bool) and exp <= time.time():
        click.echo("note: this token has expired")


@group.command("verify")
@click.argument("token", required=False, metavar="[TOKEN|-]")
@click.option(
    "--issuer",
    metavar="URL",
    help="The expected issuer (discovery at URL/.well-known/openid-configuration).",
)
@click.option("--audience", multiple=True, metavar="AUD", help="An accepted audience (repeatable).")
@click.option(
    "--any-audience",
    is_flag=True,
    help="Accept any 'aud' (without --audience a token carrying 'aud' is refused).",
)
@click.option(
    "--jwks-url", metavar="URL", help="The key set, when not from the issuer's discovery."
)
@click.option(
    "--cognito-pool", metavar="POOL_ID", help="A Cognito user pool id (instead of --issuer)."
)
@click.option(
    "--region", metavar="REGION", help="The Cognito pool's region (default: from the pool id)."
)
@click.option(
    "--client-id",
    "client_ids",
    multiple=True,
    metavar="ID",
    help="Cognito: an accepted app client id (repeatable).",
)
@click.option(
    "--token-use",
    type=click.Choice(["access", "id"]),
    default="access",
    show_default=True,
    help="Cognito: the expected token_use.",
)
@click.option(
    "--leeway", type=float, default=0.0, show_default=True, help="Clock skew allowed, in seconds."
)
@output_option
def verify(
    token: str | None,
    issuer: str | None,
    audience: tuple[str, ...],
    any_audience: bool,
    jwks_url: str | None,
    cognito_pool: str | None,
    region: str | None,
    client_ids: tuple[str, ...],
    token_use: str,
    leeway: float,
    output: str,
) -> None:
    """Verify a token's signature and claims against its issuer; exit status 1 when invalid.

    Give --issuer (any OpenID Connect issuer) or --cognito-pool; with neither, the
    MIDIL_AUTH__ settings are used. The token is read from stdin when TOKEN is '-' or absent.
    """
    from midil_sync import CognitoJWTAuthorizer, JWTAuthorizer

    if issuer and cognito_pool:
        raise click.UsageError("give --issuer or --cognito-pool, not both")
    value = token_argument_value(token)
    authorizer: JWTAuthorizer | CognitoJWTAuthorizer
    if cognito_pool:
        authorizer = CognitoJWTAuthorizer(
            cognito_pool,
            region,
            client_ids=client_ids or None,
            token_use=token_use,
            jwks_url=jwks_url,
            leeway=leeway,
        )
    elif issuer:
        authorizer = JWTAuthorizer(
            issuer,
            audience=audience or None,
            jwks_url=jwks_url,
            leeway=leeway,
            accept_any_audience=any_audience,
        )
    else:
        from midil_common.settings import load_settings

        settings = load_settings()
        if settings.auth.cognito_user_pool_id:
            authorizer = CognitoJWTAuthorizer.from_settings(settings)
        elif settings.auth.issuer:
            authorizer = JWTAuthorizer.from_settings(settings)
        else:
            raise click.UsageError(
                "give --issuer or --cognito-pool (or set MIDIL_AUTH__ISSUER or "
                "MIDIL_AUTH__COGNITO_USER_POOL_ID)"
            )
    from midil_common.errors import InvalidAudienceError

    with authorizer:
        try:
            claims = authorizer.verify(value)
        except InvalidAudienceError as exc:
            if audience or any_audience or cognito_pool:
                raise
            raise CommandFailed(
                f"{exc} (InvalidAudienceError); pass --audience AUD, or --any-audience"
            ) from None
    if output == "json":
        echo_json({"verified": True, "issuer": authorizer.issuer, "claims": claims.raw})
        return
    click.echo(f"VALID: signature and claims verified against {printable(authorizer.issuer)}")
    text_block(_claim_rows(dict(claims.raw)), indent="  ")


def _fingerprint(token: str) -> str:
    """A short digest telling two tokens apart without revealing either."""
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()[:16]


@group.command("fetch")
@click.option(
    "--token-url",
    envvar="MIDIL_SERVICE_AUTH__TOKEN_URL",
    show_envvar=True,
    metavar="URL",
    help="The OAuth 2.0 token endpoint.",
)
@click.option(
    "--client-id",
    envvar="MIDIL_SERVICE_AUTH__CLIENT_ID",
    show_envvar=True,
    metavar="ID",
    help="The client id.",
)
@click.option(
    "--scope",
    multiple=True,
    metavar="SCOPE",
    help="A scope to ask for (repeatable, or space-separated).",
)
@click.option("--audience", metavar="AUD", help="The audience to ask for (Auth0, Okta).")
@click.option(
    "--auth-method",
    type=click.Choice(["client_secret_basic", "client_secret_post"]),
    default="client_secret_basic",
    show_default=True,
    help="How the client authenticates.",
)
@click.option(
    "--show-token",
    is_flag=True,
    help="Print the access token itself (by default only its metadata).",
)
@output_option
def fetch(
    token_url: str | None,
    client_id: str | None,
    scope: tuple[str, ...],
    audience: str | None,
    auth_method: str,
    show_token: bool,
    output: str,
) -> None:
    """Get a service token with the client_credentials grant.

    The client secret comes from MIDIL_SERVICE_AUTH__CLIENT_SECRET, else a hidden prompt (or the
    first line of stdin when piped, e.g. from a secret store); never from an argument, which
    would land in the shell history.

    By default only the token's metadata is printed (type, expiry, scope and a fingerprint), so
    the output is safe in a log. --show-token prints the access token: in text output, alone on
    stdout, as in TOKEN=$(midil token fetch --show-token ...).
    """
    from midil_sync import ClientCredentialsProvider

    if not token_url:
        raise click.UsageError("missing --token-url (or MIDIL_SERVICE_AUTH__TOKEN_URL)")
    if not client_id:
        raise click.UsageError("missing --client-id (or MIDIL_SERVICE_AUTH__CLIENT_ID)")
    secret = os.environ.get(SECRET_VARIABLE) or read_secret_line("Client secret")
    if not secret:
        raise CommandFailed(f"no client secret: set {SECRET_VARIABLE} or type it at the prompt")
    scopes = [part for item in scope for part in item.split()]
    with ClientCredentialsProvider(
        token_url,
        client_id,
        secret,
        scope=scopes or None,
        audience=audience,
        auth_method=cast("AuthMethod", auth_method),
    ) as provider:
        access = provider.get_token()
    expires_in = access.expires_in()
    metadata: dict[str, Any] = {
        "token_type": access.token_type,
        "expires_in": None if expires_in is None else round(expires_in),
        "expires_at": None if access.expires_at is None else int(access.expires_at),
        "scope": access.scope,
        "fingerprint": _fingerprint(access.access_token),
    }
    if output == "json":
        if show_token:
            metadata["access_token"] = access.access_token
        echo_json(metadata)
        return
    if show_token:
        click.echo(access.access_token)
        return
    text_block(
        [
            ("token_type", access.token_type),
            ("expires_at", render_time(access.expires_at) if access.expires_at else "unknown"),
            ("scope", access.scope or ""),
            ("fingerprint", metadata["fingerprint"]),
        ]
    )
    click.echo("(the token itself is not shown: add --show-token to print it)", err=True)
