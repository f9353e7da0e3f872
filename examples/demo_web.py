"""Serve one protected JSON:API endpoint on loopback and call it with and without a token.

``main()`` starts a :class:`~midil_common.testing.LocalIssuer`, serves the Flask "articles" example
on ``127.0.0.1`` with werkzeug's threaded server, and prints what a client sees.
"""

from __future__ import annotations

import pathlib
import sys
import threading

import requests
from werkzeug.serving import WSGIRequestHandler, make_server

from midil_common.testing import LocalIssuer
from midil_sync import JWTAuthorizer

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from flask_app import create_app


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def _show(label: str, response: requests.Response) -> None:
    print(f"  {label}: {response.status_code} {response.headers.get('Content-Type')}")
    challenge = response.headers.get("WWW-Authenticate")
    if challenge:
        print(f"    WWW-Authenticate: {challenge}")
    body = response.json()
    if "errors" in body:
        first = body["errors"][0]
        print(f"    error: {first.get('code')} - {first.get('detail')}")
    else:
        titles = [a["attributes"].get("title") for a in body["data"]]
        print(f"    data: {titles}; included: {len(body.get('included', []))} people")


def main() -> None:
    """Run the demo; returns once the server and the issuer are stopped."""
    print("== web adapters: a protected JSON:API endpoint (Flask) on loopback")
    with LocalIssuer(audience="articles-api") as issuer:
        authorizer = JWTAuthorizer(issuer.issuer, audience="articles-api")
        authorizer.hydrate()
        server = make_server(
            "127.0.0.1", 0, create_app(authorizer), threaded=True, request_handler=_Quiet
        )
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        try:
            url = f"http://127.0.0.1:{server.server_port}/articles"
            print(f"  GET {url}")
            _show("without a token", requests.get(url, timeout=5))
            reader = issuer.mint("ada", scope="articles:read")
            headers = {"Authorization": f"Bearer {reader}", "Accept": "application/vnd.api+json"}
            _show(
                "with a token (scope articles:read), ?include=author&sort=-created",
                requests.get(
                    url,
                    params={"include": "author", "sort": "-created"},
                    headers=headers,
                    timeout=5,
                ),
            )
            expired = issuer.mint("ada", scope="articles:read", expires_in=-60)
            _show(
                "with an expired token",
                requests.get(url, headers={"Authorization": f"Bearer {expired}"}, timeout=5),
            )
            other = issuer.mint("bob", scope="profile")
            _show(
                "with a token lacking the scope",
                requests.get(url, headers={"Authorization": f"Bearer {other}"}, timeout=5),
            )
            _show(
                "with a bad sort parameter",
                requests.get(url, params={"sort": "password"}, headers=headers, timeout=5),
            )
        finally:
            server.shutdown()
            thread.join()
            server.server_close()
            authorizer.close()


if __name__ == "__main__":
    main()
