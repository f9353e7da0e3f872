"""Cognito user sessions with ``CognitoUserClient``: register, confirm, log in, refresh, log out.

The pool and its app client come from ``MIDIL_AUTH__COGNITO_USER_POOL_ID``,
``MIDIL_AUTH__CLIENT_IDS`` (the app client) and ``MIDIL_AUTH__REGION``; ``AWS_ENDPOINT_URL``
points at a local emulator (moto_server, LocalStack; leave it out on AWS). The password is
read from stdin (or a hidden prompt), never from the command line::

    export MIDIL_AUTH__COGNITO_USER_POOL_ID=us-east-1_AbC123 MIDIL_AUTH__CLIENT_IDS=4k2l...
    export MIDIL_AUTH__REGION=us-east-1 AWS_ENDPOINT_URL=http://127.0.0.1:5000
    python examples/user_sessions.py register ada@example.com
    python examples/user_sessions.py confirm ada@example.com 123456   # the code Cognito emailed
    python examples/user_sessions.py login ada@example.com

Exit status: 0 done, 1 Cognito refused (wrong password, user exists, ...), 2 configuration error.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time

from midil_common.errors import AuthError, ConfigError
from midil_common.settings import load_settings
from midil_sync import CognitoUserClient


def password() -> str:
    """The password: a hidden prompt on a terminal, else the first line of stdin."""
    return getpass.getpass() if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")


def main() -> int:
    """Run one step of a user's life cycle."""
    parser = argparse.ArgumentParser(description="Cognito user sessions.")
    parser.add_argument("step", choices=["register", "confirm", "login"])
    parser.add_argument("email")
    parser.add_argument("code", nargs="?", help="confirm: the code Cognito sent")
    args = parser.parse_args()
    try:
        auth = load_settings().auth
        if not (auth.cognito_user_pool_id and auth.client_ids):
            raise ConfigError("set MIDIL_AUTH__COGNITO_USER_POOL_ID and MIDIL_AUTH__CLIENT_IDS")
        users = CognitoUserClient(
            auth.cognito_user_pool_id,
            auth.client_ids[0],
            region=auth.region,
            endpoint_url=os.environ.get("AWS_ENDPOINT_URL"),
        )
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    with users:
        try:
            if args.step == "register":
                users.register(args.email, password())
                print(f"registered {args.email}: confirm with the code Cognito sent")
            elif args.step == "confirm":
                users.confirm_registration(args.email, args.code or input("code: "))
                print(f"confirmed {args.email}")
            else:
                with users.login(args.email, password(), logout_on_exit=True) as session:
                    user = session.get_current_user()  # the tokens were verified first
                    print(f"logged in as {user.email} (sub {user.id})")
                    session.refresh()
                    left = int((session.expires_at or 0) - time.time())
                    print(f"refreshed: the access token is valid for {left} s")
                print(f"logged out: authenticated={session.is_authenticated()}")
        except AuthError as exc:  # InvalidCredentialsError, UserExistsError, CodeMismatchError ...
            print(f"refused: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
