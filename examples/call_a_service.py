"""Call another service with ``HttpClient``: a client-credentials token, retries, JSON.

The service credentials come from ``MIDIL_SERVICE_AUTH__...`` and the timeouts and retry policy
from ``MIDIL_HTTP__...`` (``from_settings()``); the service's base URL and the path are arguments.
Retries are logged (``midil.http``) on stderr. Against the local issuer and the Flask example::

    midil issuer serve --audience articles-api --scope articles:read   # prints the client secret
    export MIDIL_SERVICE_AUTH__TOKEN_URL=http://127.0.0.1:8765/oauth2/token
    export MIDIL_SERVICE_AUTH__CLIENT_ID=dev-client MIDIL_SERVICE_AUTH__CLIENT_SECRET=...
    export MIDIL_SERVICE_AUTH__SCOPE=articles:read MIDIL_HTTP__MAX_ATTEMPTS=3
    python examples/call_a_service.py http://127.0.0.1:5000 articles   # see the README for :5000

Exit status: 0 success, 1 the call failed, 2 configuration error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from midil_common.errors import AuthError, ConfigError, HTTPError
from midil_sync import ClientCredentialsProvider, HttpClient


def main() -> int:
    """GET ``PATH`` from the service at ``BASE_URL`` and print the JSON answer."""
    parser = argparse.ArgumentParser(description="Call a service with a service token.")
    parser.add_argument("base_url", help="the service's base URL; the token is sent only there")
    parser.add_argument("path", nargs="?", default="", help="the path under the base URL")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("midil").setLevel(logging.INFO)  # the kit's retries, stops, ...

    try:
        auth = ClientCredentialsProvider.from_settings()  # MIDIL_SERVICE_AUTH__...
        http = HttpClient.from_settings(base_url=args.base_url, auth=auth)  # MIDIL_HTTP__...
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    with auth, http:
        try:
            token = auth.get_token()  # cached; HttpClient asks for it too (no second request)
            print(f"service token for {auth.client_id}: scope={token.scope or '-'}")
            response = http.get(args.path, raise_for_status=True)
        except (AuthError, HTTPError) as exc:  # HTTPStatusError, TransportError, TokenRequestError
            print(f"call failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    print(f"GET {response.url} -> {response.status_code}")
    print(json.dumps(response.json(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
