"""``midil issuer serve``: the :class:`~midil_common.testing.LocalIssuer` as a development server
(the same issuer ``python -m midil_common.testing`` runs), with a registered client."""

from __future__ import annotations

import secrets
import signal
import sys
import threading
from typing import Any

import click

from midil_sync._cli._common import echo_json, output_option, text_block

__all__ = ["group"]


@click.group("issuer")
def group() -> None:
    """A local OpenID Connect issuer for development (never for production)."""


@group.command("serve")
@click.option(
    "--port", type=int, default=8765, show_default=True, help="Port on 127.0.0.1 (0: any free one)."
)
@click.option(
    "--audience", default="api", show_default=True, help="The 'aud' of the tokens it issues."
)
@click.option(
    "--client-id",
    default="dev-client",
    show_default=True,
    help="The client registered for client_credentials.",
)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    default=("read", "write"),
    show_default=True,
    help="A scope the client may ask for (repeatable).",
)
@click.option("--ttl", type=int, default=3600, show_default=True, help="Token lifetime in seconds.")
@output_option
def serve(
    port: int, audience: str, client_id: str, scopes: tuple[str, ...], ttl: int, output: str
) -> None:
    """Serve discovery, keys and a token endpoint on 127.0.0.1 until Ctrl-C.

    Prints the issuer and discovery URLs and a client id with a fresh random secret (a throwaway
    development credential, printed on purpose) for the client_credentials grant.
    """
    from midil_common.testing import LocalIssuer

    # Ctrl-C and SIGTERM end the wait below; set before anything is printed so that an early
    # signal still stops the issuer cleanly.
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    secret = secrets.token_urlsafe(24)
    issuer = LocalIssuer(audience=audience, port=port, token_ttl=ttl).start()
    try:
        issuer.register_client(client_id, secret, scopes=scopes)
        info: dict[str, Any] = {
            "issuer": issuer.url,
            "discovery_url": issuer.discovery_url,
            "jwks_url": issuer.jwks_url,
            "token_url": issuer.token_url,
            "audience": audience,
            "client_id": client_id,
            "client_secret": secret,
            "scopes": list(scopes),
        }
        if output == "json":
            echo_json(info, compact=True)
        else:
            text_block([(k, " ".join(v) if isinstance(v, list) else v) for k, v in info.items()])
            click.echo()
            click.echo("Get a token (the secret is a throwaway development credential):")
            click.echo(f"  export MIDIL_SERVICE_AUTH__CLIENT_SECRET={secret}")
            click.echo(
                f"  midil token fetch --token-url {issuer.token_url} --client-id {client_id} --show-token"
            )
            click.echo("Verify tokens:")
            click.echo(f"  midil token verify --issuer {issuer.url} --audience {audience}")
            click.echo("Serving until Ctrl-C.")
        sys.stdout.flush()
        while not stop.wait(0.2):
            pass
    finally:
        issuer.stop()
