"""``make demo`` runs ``examples/demo.py``: it must run end to end on local defaults."""

from __future__ import annotations

import pathlib
import subprocess
import sys

DEMO = pathlib.Path(__file__).resolve().parents[1] / "examples" / "demo.py"


def test_the_end_to_end_demo_runs_and_shows_accepted_and_refused_cases() -> None:
    result = subprocess.run(
        [sys.executable, str(DEMO)], capture_output=True, text=True, timeout=180
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr[-3000:]
    assert out.rstrip().endswith("Demo finished.")
    # JSON:API: a valid compound document round-trips, a broken one is refused with pointers.
    assert "identical JSON" in out
    assert '"pointer": "/included/1"' in out
    # Tokens: verified by both shells, and refused when expired or forged.
    assert "sync  verified sub=alice" in out and "async verified sub=alice" in out
    assert "TokenExpiredError" in out and "InvalidSignatureError" in out
    # HTTP: a 503 retried, one token request per shell.
    assert "one 503 retried" in out and "1 token request" in out
    # Web: no token 401, expired 401 invalid_token, missing scope 403, bad query 400.
    assert "without a token: 401" in out
    assert 'error="invalid_token"' in out and 'error="insufficient_scope"' in out
    assert "bad sort parameter: 400" in out
    # No secret or token leaks into the output.
    assert "billing-secret" not in out and "eyJ" not in out
    # Events: handlers call a service inside the publisher's context, in both shells.
    assert "shipping service saw X-Correlation-ID=order-flow-1 traceparent=00-" in out
    assert "shipping service saw X-Correlation-ID=order-flow-2 traceparent=00-" in out
    # User sessions on the local AWS emulator, and an OIDC service token revoked.
    assert "sync  logged in: ada@example.com" in out and "async logged out" in out
    assert "after revocation active=False" in out
    # Events on the local AWS emulator: published, consumed with the correlation id, none left.
    assert "consumer handled order.created#1 correlation checkout-77" in out
    assert "consumer handled order.paid#1 correlation checkout-78" in out
    assert "messages left on the queue: 0" in out and "Scheduler: cart-7-reminder created" in out
