"""Verify a JWT against an OpenID Connect issuer with ``JWTAuthorizer``, as an API would.

The issuer and audience come from the environment (``JWTAuthorizer.from_settings()``); the token
from the first argument or, better (it stays out of the shell history), from stdin::

    python -m midil_common.testing --audience orders-api --scope orders:read   # prints a token
    export MIDIL_AUTH__ISSUER=http://127.0.0.1:8765 MIDIL_AUTH__AUDIENCE=orders-api
    echo "$TOKEN" | python examples/verify_token.py --scope orders:read

Exit status: 0 valid, 1 refused (invalid, expired, missing scope, issuer unreachable),
2 configuration error.
"""

from __future__ import annotations

import argparse
import sys
import time

from midil_common.errors import AuthError, ConfigError
from midil_sync import JWTAuthorizer


def main() -> int:
    """Verify the token and print its claims."""
    parser = argparse.ArgumentParser(description="Verify a JWT with JWTAuthorizer.")
    parser.add_argument("token", nargs="?", help="the JWT (default: read from stdin)")
    parser.add_argument("--scope", action="append", default=[], help="a scope it must grant")
    args = parser.parse_args()
    token = args.token or sys.stdin.readline().strip()

    try:
        authorizer = JWTAuthorizer.from_settings()  # MIDIL_AUTH__ISSUER, MIDIL_AUTH__AUDIENCE ...
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    with authorizer:
        try:
            claims = authorizer.verify(token)
        except AuthError as exc:  # InvalidTokenError subclasses, or JWKSFetchError
            print(f"refused: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    if not claims.has_scopes(*args.scope):
        missing = sorted(set(args.scope) - claims.scopes)
        print(f"refused: missing scope {' '.join(missing)}", file=sys.stderr)
        return 1

    print("valid token")
    print(f"  subject   {claims.sub}")
    print(f"  issuer    {claims.iss}")
    print(f"  audience  {' '.join(claims.aud) or '-'}")
    print(f"  scopes    {' '.join(sorted(claims.scopes)) or '-'}")
    if claims.exp is not None:
        print(f"  expires   in {int(claims.exp - time.time())} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
