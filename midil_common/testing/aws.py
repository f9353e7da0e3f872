"""A local AWS emulator for tests and demos: :class:`MotoServer`.

moto (a test dependency, imported when the server starts) serves every AWS API it emulates on
``127.0.0.1`` at a free port, from a thread. Clients reach it through ``endpoint_url``; the dummy
credentials of :attr:`MotoServer.credentials` are passed to the clients it configures
(:meth:`MotoServer.client_kwargs`), so ``os.environ`` is never touched::

    with MotoServer() as aws:
        admin = boto3.client("cognito-idp", **aws.client_kwargs())
        users = CognitoUserClient(pool_id, client_id, endpoint_url=aws.endpoint_url)

What moto does not do is documented by the tests that rely on it: its Cognito ignores
confirmation codes and lacks ``ResendConfirmationCode`` and ``RevokeToken``, answers unsigned
requests (Cognito's user operations) from its ``us-east-1`` backend whatever the pool's region, and
serves each pool's keys at ``{endpoint_url}/{pool_id}/.well-known/jwks.json``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DUMMY_CREDENTIALS", "MotoServer"]

DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
"""Credentials moto accepts (it checks none)."""


class MotoServer:
    """moto's server on ``127.0.0.1`` (``port=0``: a free one); :meth:`start`/:meth:`stop` or
    ``with``. ``endpoint_url`` is known once started."""

    def __init__(self, *, port: int = 0, region: str = "us-east-1") -> None:
        self.region = region
        self.credentials: dict[str, str] = dict(DUMMY_CREDENTIALS)
        self._port = port
        self._server: Any = None
        self.endpoint_url = ""

    def start(self) -> MotoServer:
        """Start serving (moto is imported here); returns ``self``."""
        if self._server is not None:
            return self
        try:
            from moto.server import ThreadedMotoServer
        except ModuleNotFoundError as exc:
            raise ImportError(
                f"MotoServer needs moto's server ({exc}): pip install 'moto[server]'"
            ) from exc
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=self._port, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        self._server = server
        self._port = port
        self.endpoint_url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        """Stop serving."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def reset(self) -> None:
        """Forget every resource moto holds (``POST /moto-api/reset``)."""
        import urllib.request

        request = urllib.request.Request(self.endpoint_url + "/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            answer.read()

    def client_kwargs(self, region: str | None = None) -> dict[str, Any]:
        """``endpoint_url``, ``region_name`` and the dummy credentials, for ``boto3.client(...)``
        or an aiobotocore session's ``create_client(...)``."""
        return {
            "endpoint_url": self.endpoint_url,
            "region_name": region or self.region,
            **self.credentials,
        }

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
