"""``python -m midil_common.testing`` serves an issuer and prints a token that verifies."""

from __future__ import annotations

import signal
import subprocess
import sys

from midil_sync import JWTAuthorizer


def test_the_printed_token_verifies_against_the_printed_issuer() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "midil_common.testing", "--port", "0", "--audience", "api"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        issuer = process.stdout.readline().split()[1]
        token = process.stdout.readline().split()[1]
        with JWTAuthorizer(issuer, audience="api") as authorizer:
            claims = authorizer.verify(token)
        assert claims.sub == "alice" and claims.has_scopes("articles:read")
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        if process.stdout is not None:
            process.stdout.close()
