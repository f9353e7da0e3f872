"""``python -m midil_common.testing``: run a :class:`LocalIssuer` and print a token for curl.

For trying the examples by hand: it serves discovery, keys and a token endpoint on 127.0.0.1 until
Ctrl-C, and prints the issuer URL, the settings that point a service at it, and a signed token.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from midil_common.testing.issuer import LocalIssuer


def main(argv: list[str] | None = None) -> int:
    """Start the issuer, print how to use it, serve until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m midil_common.testing",
        description="Serve a local OpenID Connect issuer and print a token for curl.",
    )
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--audience", default="articles-api", help="aud of the printed token")
    parser.add_argument(
        "--scope", default="articles:read articles:write", help="scope of the printed token"
    )
    parser.add_argument("--sub", default="alice", help="subject of the printed token")
    parser.add_argument("--ttl", type=int, default=3600, help="token lifetime in seconds")
    args = parser.parse_args(argv)

    # Ctrl-C and SIGTERM end the wait below; set before anything is printed, so a signal that comes
    # early still stops the issuer cleanly.
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    issuer = LocalIssuer(audience=args.audience, port=args.port, token_ttl=args.ttl).start()
    token = issuer.mint(args.sub, scope=args.scope)
    print(f"issuer  {issuer.url}")
    print(f"token   {token}")
    print()
    print("Point a service at it:")
    print(f"  export MIDIL_AUTH__ISSUER={issuer.url} MIDIL_AUTH__AUDIENCE={args.audience}")
    print("Then call it:")
    print(f'  curl -H "Authorization: Bearer {token}" http://127.0.0.1:5000/articles')
    print("Serving until Ctrl-C.", flush=True)
    try:
        while not stop.wait(0.2):
            pass
    finally:
        issuer.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
