"""Call another service from asyncio: several paths at once, one client-credentials token.

The async twin of ``call_a_service.py`` (same settings, ``midil_async`` instead of
``midil_sync``): the requests run concurrently, and however many ask for the token at once, it
is fetched once. Against the local issuer and the FastAPI example::

    midil issuer serve --audience articles-api --scope articles:read   # prints the client secret
    export MIDIL_SERVICE_AUTH__TOKEN_URL=http://127.0.0.1:8765/oauth2/token
    export MIDIL_SERVICE_AUTH__CLIENT_ID=dev-client MIDIL_SERVICE_AUTH__CLIENT_SECRET=...
    python examples/call_a_service_async.py http://127.0.0.1:5000 articles articles/1

Exit status: 0 every call succeeded, 1 one failed, 2 configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

import midil_async
from midil_common.errors import AuthError, ConfigError, HTTPError


async def call_all(base_url: str, paths: list[str]) -> int:
    """GET every path concurrently and print one line per answer."""
    try:
        auth = midil_async.ClientCredentialsProvider.from_settings()
        http = midil_async.HttpClient.from_settings(base_url=base_url, auth=auth)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    async with auth, http:
        answers = await asyncio.gather(
            *(http.send_request("GET", path) for path in paths), return_exceptions=True
        )
    status = 0
    for path, answer in zip(paths, answers, strict=True):
        if isinstance(answer, (AuthError, HTTPError)):
            print(f"GET {path}: failed: {type(answer).__name__}: {answer}", file=sys.stderr)
            status = 1
        elif isinstance(answer, BaseException):
            raise answer
        else:
            print(f"GET {path}: {answer}")
    return status


def main() -> int:
    """Parse the arguments and run the calls."""
    parser = argparse.ArgumentParser(description="Call a service from asyncio.")
    parser.add_argument("base_url", help="the service's base URL; the token is sent only there")
    parser.add_argument("paths", nargs="+", help="paths under the base URL, fetched concurrently")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("midil").setLevel(logging.INFO)  # the kit's retries, stops, ...
    return asyncio.run(call_all(args.base_url, args.paths))


if __name__ == "__main__":
    sys.exit(main())
