"""A local OpenID Connect issuer for tests, demos and offline development.

:class:`LocalIssuer` generates its own keys and serves, on ``127.0.0.1`` at a free port, from a
background thread of the standard library's ``http.server``:

- ``GET  /.well-known/openid-configuration``: the discovery document (``issuer.discovery_url``);
- ``GET  /.well-known/jwks.json``: the public keys (``issuer.jwks_url``);
- ``POST /oauth2/token``: the ``client_credentials`` and ``refresh_token`` grants for registered
  clients, with ``client_secret_basic`` and ``client_secret_post`` (``issuer.token_url``), and the
  ``password`` grant for registered users when ``password_grant=True`` (local development only:
  RFC 9700 forbids it in production);
- ``POST /oauth2/revoke``: token revocation (RFC 7009; ``issuer.revocation_url``);
- ``POST /oauth2/introspect``: token introspection (RFC 7662; ``issuer.introspection_url``);
- ``GET|POST /oauth2/userinfo``: the OIDC userinfo endpoint (``issuer.userinfo_url``).

It mints tokens with any claims, including deliberately broken ones, rotates its keys on demand,
counts the requests each endpoint received and can be told to make an endpoint fail or hang::

    with LocalIssuer(audience="orders-api") as issuer:
        token = issuer.mint(sub="alice", scope="orders:read")
        issuer.register_client("svc", "s3cret", scopes=["orders:read"])
        assert issuer.request_count("jwks") == 0

This is test tooling: it is the one module of ``midil_common`` that does I/O, and it must never face
the internet (it binds the loopback interface only).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import secrets
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import get_default_algorithms

__all__ = [
    "DISCOVERY_PATH",
    "INTROSPECTION_PATH",
    "JWKS_PATH",
    "REVOCATION_PATH",
    "TOKEN_PATH",
    "USERINFO_PATH",
    "Fault",
    "LocalIssuer",
    "LocalUser",
    "RegisteredClient",
]

DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/.well-known/jwks.json"
TOKEN_PATH = "/oauth2/token"
REVOCATION_PATH = "/oauth2/revoke"
INTROSPECTION_PATH = "/oauth2/introspect"
USERINFO_PATH = "/oauth2/userinfo"

_ALIASES = {
    "discovery": DISCOVERY_PATH,
    "jwks": JWKS_PATH,
    "token": TOKEN_PATH,
    "revoke": REVOCATION_PATH,
    "introspect": INTROSPECTION_PATH,
    "userinfo": USERINFO_PATH,
}
_ALGORITHMS = get_default_algorithms()
# Which of the issuer's keys signs each algorithm.
_KEY_FAMILY = {
    "RS256": "rsa",
    "RS384": "rsa",
    "RS512": "rsa",
    "PS256": "rsa",
    "PS384": "rsa",
    "PS512": "rsa",
    "ES256": "ec-p256",
    "ES384": "ec-p384",
    "EdDSA": "ed25519",
}
_UNSET: Any = object()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


@dataclass
class _Key:
    family: str
    kid: str
    private: Any
    published: bool = True

    def public_jwk(self) -> dict[str, Any]:
        """The public JWK with ``kid``, ``use`` and (for single-algorithm families) ``alg``."""
        jwk_alg = {"rsa": "RS256", "ec-p256": "ES256", "ec-p384": "ES384", "ed25519": "EdDSA"}
        algorithm = _ALGORITHMS[jwk_alg[self.family]]
        jwk: dict[str, Any] = json.loads(algorithm.to_jwk(self.private.public_key()))
        jwk["kid"] = self.kid
        jwk["use"] = "sig"
        if self.family != "rsa":
            # An RSA key signs RS256 and PS256 alike here, so it carries no ``alg``.
            jwk["alg"] = jwk_alg[self.family]
        return jwk


def _generate(family: str, rsa_bits: int) -> Any:
    if family == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
    if family == "ec-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if family == "ec-p384":
        return ec.generate_private_key(ec.SECP384R1())
    return ed25519.Ed25519PrivateKey.generate()


@dataclass(frozen=True)
class RegisteredClient:
    """A client allowed to use the token endpoint."""

    client_id: str
    secret: str = field(repr=False)
    scopes: tuple[str, ...] = ()
    audience: str | None = None
    token_ttl: int = 3600
    extra_claims: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LocalUser:
    """A user of the ``password`` grant; ``claims`` are its profile (served by userinfo and put in
    its id tokens)."""

    username: str
    password: str = field(repr=False)
    sub: str = ""
    claims: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Fault:
    """How one endpoint misbehaves: an answer of its own, after an optional delay.

    ``status=None`` keeps the normal answer (only the delay applies). ``times=None`` means until
    :meth:`LocalIssuer.clear_faults`; otherwise the fault applies to that many requests.
    """

    status: int | None = 503
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    times: int | None = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], issuer: LocalIssuer) -> None:
        self.issuer = issuer
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Idle keep-alive connections are dropped, so a stopped issuer's threads do not linger.
    timeout = 10

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr log (it would print request lines, token requests included)."""

    def do_GET(self) -> None:
        """Serve discovery and the JWKS."""
        self._dispatch("GET")

    def do_POST(self) -> None:
        """Serve the token endpoint."""
        self._dispatch("POST")

    def do_HEAD(self) -> None:
        """Answer HEAD like GET without a body."""
        self._dispatch("HEAD")

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        path = urlsplit(self.path).path
        status, headers, content = self.server.issuer._handle(
            method, path, dict(self.headers.items()), body
        )
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(content)
        except OSError:
            self.close_connection = True


class LocalIssuer:
    """An OIDC issuer on ``127.0.0.1`` with its own keys, for tests and demos.

    Construction generates the keys and does no I/O; :meth:`start` (or ``with``) binds a free port.
    Attributes once started: ``url`` (also the ``iss`` of its tokens), ``issuer``, ``discovery_url``,
    ``jwks_url``, ``token_url``, ``audience`` (the default ``aud`` of minted tokens).

    Args:
        audience: default ``aud`` of minted tokens and of token-endpoint tokens (None: no ``aud``).
        port: port to bind (0: a free one).
        rsa_bits: size of generated RSA keys.
        jwks_max_age: ``Cache-Control: max-age`` of the JWKS response (None: no header).
        token_ttl: default lifetime of tokens, in seconds.
        base_path: a path prefix for the issuer URL, as in ``https://host/realms/x``.
        password_grant: serve the ``password`` grant for users added with :meth:`register_user`
            (local development only).
    """

    def __init__(
        self,
        *,
        audience: str | None = None,
        port: int = 0,
        rsa_bits: int = 2048,
        jwks_max_age: int | None = 600,
        token_ttl: int = 3600,
        base_path: str = "",
        password_grant: bool = False,
    ) -> None:
        self.audience = audience
        self.password_grant = password_grant
        self._users: dict[str, LocalUser] = {}
        # refresh token -> (client id, username or None, scope, jtis of the access tokens it made)
        self._refresh_tokens: dict[str, tuple[str, str | None, str | None, list[str]]] = {}
        self._revoked_jtis: set[str] = set()
        self.token_ttl = token_ttl
        self.jwks_max_age = jwks_max_age
        self._rsa_bits = rsa_bits
        self._port = port
        self._base_path = "/" + base_path.strip("/") if base_path.strip("/") else ""
        self._lock = threading.Lock()
        self._keys: list[_Key] = []
        self._foreign: dict[str, Any] = {}
        self._generation = 0
        self._clients: dict[str, RegisteredClient] = {}
        self._counts: Counter[str] = Counter()
        self._faults: dict[str, Fault] = {}
        self._jwks_override: bytes | None = None
        self._release = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.token_requests: list[dict[str, Any]] = []
        """One record per token-endpoint request: client_id, auth_method, grant_type, scope, error."""
        self._new_keys(keep_old=False)
        self._initial_keys = list(self._keys)

    # ------------------------------------------------------------------------------ lifecycle

    def start(self) -> LocalIssuer:
        """Bind ``127.0.0.1`` and serve from a daemon thread; returns ``self``.

        After :meth:`stop`, ``start`` binds the same port again, so a test can take the issuer
        down and bring it back at the same URL.
        """
        if self._server is not None:
            return self
        self._release.clear()
        server = _Server(("127.0.0.1", self._port), self)
        self._port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.name = f"midil-local-issuer-{self._port}"
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open connections; the issuer can be started again."""
        server, self._server = self._server, None
        if server is None:
            return
        self._release.set()  # wakes handlers held by a hang
        server.shutdown()
        server.server_close()
        with server.connections_lock:
            for conn in list(server.connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    close = stop

    def __enter__(self) -> LocalIssuer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """True while the server thread is serving."""
        return self._server is not None

    def reset(self) -> LocalIssuer:
        """Back to the state right after construction, and serving: the first keys, no
        faults, no registered clients, zero counts, the normal JWKS. Returns ``self``.

        Cheaper than a new issuer (no key generation), for fixtures shared between tests.
        """
        self.clear_faults()
        with self._lock:
            self._keys = list(self._initial_keys)
            self._clients.clear()
            self._users.clear()
            self._refresh_tokens.clear()
            self._revoked_jtis.clear()
            self._counts.clear()
            self.token_requests.clear()
        self._jwks_override = None
        return self.start()

    # ------------------------------------------------------------------------------ addresses

    @property
    def port(self) -> int:
        """The bound port (0 before the first :meth:`start` with ``port=0``)."""
        return self._port

    @property
    def url(self) -> str:
        """The issuer URL, which is also the ``iss`` of its tokens (no trailing slash)."""
        if self._port == 0:
            raise RuntimeError("LocalIssuer is not started: use start() or a with-block")
        return f"http://127.0.0.1:{self._port}{self._base_path}"

    @property
    def issuer(self) -> str:
        """Alias of :attr:`url`: the expected ``iss``."""
        return self.url

    @property
    def discovery_url(self) -> str:
        """``{url}/.well-known/openid-configuration``."""
        return self.url + DISCOVERY_PATH

    @property
    def jwks_url(self) -> str:
        """``{url}/.well-known/jwks.json``."""
        return self.url + JWKS_PATH

    @property
    def token_url(self) -> str:
        """``{url}/oauth2/token``."""
        return self.url + TOKEN_PATH

    @property
    def revocation_url(self) -> str:
        """``{url}/oauth2/revoke``."""
        return self.url + REVOCATION_PATH

    @property
    def introspection_url(self) -> str:
        """``{url}/oauth2/introspect``."""
        return self.url + INTROSPECTION_PATH

    @property
    def userinfo_url(self) -> str:
        """``{url}/oauth2/userinfo``."""
        return self.url + USERINFO_PATH

    # ------------------------------------------------------------------------------ keys

    def _new_keys(self, *, keep_old: bool) -> dict[str, str]:
        self._generation += 1
        tag = secrets.token_hex(4)
        fresh = [
            _Key(family, f"{family}-{self._generation}-{tag}", _generate(family, self._rsa_bits))
            for family in ("rsa", "ec-p256", "ec-p384", "ed25519")
        ]
        with self._lock:
            if keep_old:
                self._keys = fresh + self._keys
            else:
                self._keys = fresh
        return {k.family: k.kid for k in fresh}

    def rotate_keys(self, *, keep_old: bool = False) -> dict[str, str]:
        """Replace the signing keys with new ones (new ``kid``s); returns ``{family: kid}``.

        With ``keep_old=True`` the previous keys stay published (an overlap window); otherwise
        tokens signed before the rotation no longer verify. Families: ``rsa``, ``ec-p256``,
        ``ec-p384``, ``ed25519``.
        """
        return self._new_keys(keep_old=keep_old)

    def _current(self, family: str) -> _Key:
        with self._lock:
            for key in self._keys:
                if key.family == family:
                    return key
        raise KeyError(family)

    def kid(self, alg: str = "RS256") -> str:
        """The ``kid`` of the current key that signs ``alg``."""
        return self._current(_KEY_FAMILY[alg]).kid

    def private_key(self, alg: str = "RS256") -> Any:
        """The current ``cryptography`` private key that signs ``alg`` (for baselines in benchmarks)."""
        return self._current(_KEY_FAMILY[alg]).private

    def public_key(self, alg: str = "RS256") -> Any:
        """The current ``cryptography`` public key that verifies ``alg``."""
        return self.private_key(alg).public_key()

    def jwks(self) -> dict[str, Any]:
        """The published key set as a dict (what the JWKS endpoint serves)."""
        with self._lock:
            return {"keys": [k.public_jwk() for k in self._keys if k.published]}

    def set_jwks(self, document: Mapping[str, Any] | bytes | None) -> None:
        """Serve ``document`` (a dict or raw bytes, garbage allowed) as the JWKS; None restores it."""
        if document is None or isinstance(document, bytes):
            self._jwks_override = document
        else:
            self._jwks_override = _json_bytes(dict(document))

    def discovery(self) -> dict[str, Any]:
        """The discovery document (what the discovery endpoint serves)."""
        return {
            "issuer": self.url,
            "jwks_uri": self.jwks_url,
            "token_endpoint": self.token_url,
            "revocation_endpoint": self.revocation_url,
            "introspection_endpoint": self.introspection_url,
            "userinfo_endpoint": self.userinfo_url,
            "grant_types_supported": ["client_credentials", "refresh_token"]
            + (["password"] if self.password_grant else []),
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
            ],
            "response_types_supported": ["token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": sorted(_KEY_FAMILY),
            "scopes_supported": sorted({s for c in self._clients.values() for s in c.scopes}),
        }

    # ------------------------------------------------------------------------------ minting

    def mint(
        self,
        sub: str | None = "user",
        *,
        scope: str | Sequence[str] | None = None,
        aud: str | Sequence[str] | None = _UNSET,
        iss: str | None = _UNSET,
        expires_in: float | None = _UNSET,
        issued_at: float | None = _UNSET,
        not_before: float | None = None,
        claims: Mapping[str, Any] | None = None,
        omit: Iterable[str] = (),
        alg: str = "RS256",
        kid: str | None = _UNSET,
        headers: Mapping[str, Any] | None = None,
        typ: str | None = "JWT",
        key: str = "issuer",
        hmac_secret: bytes | None = None,
        tamper: bool = False,
        now: float | None = None,
    ) -> str:
        """Sign a token with the issuer's current key for ``alg``; every part can be bent for tests.

        Args:
            sub: the subject (None: no ``sub``).
            scope: ``scope`` claim, a space-separated string or a list joined with spaces.
            aud: ``aud`` (default: the issuer's ``audience``; None: no ``aud``; a list stays a list).
            iss: ``iss`` (default: :attr:`url`; None: no ``iss``). Wrong issuer: pass another URL.
            expires_in: seconds from ``now`` to ``exp`` (default ``token_ttl``; None: no ``exp``;
                negative: already expired).
            issued_at: ``iat`` (default ``now``; None: no ``iat``).
            not_before: ``nbf`` (None: no ``nbf``).
            claims: extra claims, overriding the ones above (any JSON value, wrong types allowed).
            omit: claim names to drop at the end.
            alg: header ``alg``. ``RS256``/``RS384``/``RS512``/``PS256``/``PS384``/``PS512`` sign
                with the RSA key, ``ES256`` with P-256, ``ES384`` with P-384, ``EdDSA`` with
                Ed25519, ``none`` produces an unsigned token, ``HS256``/``HS384``/``HS512`` use
                ``hmac_secret`` (default: the RSA public JWK's JSON, the classic confusion attack).
            kid: header ``kid`` (default: the signing key's; None: no ``kid``).
            headers: extra header fields (``crit``, ``jku``, ``jwk``, ``x5u``, wrong types, ...).
            typ: header ``typ`` (None: none; ``at+jwt`` for RFC 9068 access tokens).
            key: ``"issuer"`` signs with the published key; ``"foreign"`` with a key of the
                same type that is not published (the ``kid`` still names the published one).
            hmac_secret: the secret for ``HS*`` algorithms.
            tamper: flip bits of the signature (a bad signature).
            now: the clock (default ``time.time()``).
        """
        now = time.time() if now is None else now
        payload: dict[str, Any] = {}
        payload["iss"] = self.url if iss is _UNSET else iss
        if sub is not None:
            payload["sub"] = sub
        audience = self.audience if aud is _UNSET else aud
        if audience is not None:
            payload["aud"] = audience if isinstance(audience, str) else list(audience)
        iat = int(now) if issued_at is _UNSET else issued_at
        if iat is not None:
            payload["iat"] = iat
        lifetime = self.token_ttl if expires_in is _UNSET else expires_in
        if lifetime is not None:
            payload["exp"] = int(now + lifetime)
        if not_before is not None:
            payload["nbf"] = not_before
        if scope is not None:
            payload["scope"] = scope if isinstance(scope, str) else " ".join(scope)
        payload["jti"] = uuid.uuid4().hex
        if claims:
            payload.update(claims)
        for name in omit:
            payload.pop(name, None)
        payload = {k: v for k, v in payload.items() if v is not None or k in (claims or {})}
        return self.sign(
            payload,
            alg=alg,
            kid=kid,
            headers=headers,
            typ=typ,
            key=key,
            hmac_secret=hmac_secret,
            tamper=tamper,
        )

    def sign(
        self,
        payload: Mapping[str, Any] | bytes,
        *,
        alg: str = "RS256",
        kid: str | None = _UNSET,
        headers: Mapping[str, Any] | None = None,
        typ: str | None = "JWT",
        key: str = "issuer",
        hmac_secret: bytes | None = None,
        tamper: bool = False,
    ) -> str:
        """Sign ``payload`` exactly as given (a claim dict, or raw bytes such as invalid JSON).

        The arguments mean what they mean for :meth:`mint`.
        """
        header: dict[str, Any] = {"alg": alg}
        if typ is not None:
            header["typ"] = typ
        family = _KEY_FAMILY.get(alg, "rsa")
        signing = self._current(family)
        chosen_kid = signing.kid if kid is _UNSET else kid
        if chosen_kid is not None:
            header["kid"] = chosen_kid
        if headers:
            header.update(headers)
        header = {k: v for k, v in header.items() if v is not None or k in (headers or {})}
        body = payload if isinstance(payload, bytes) else _json_bytes(dict(payload))
        signing_input = f"{_b64(_json_bytes(header))}.{_b64(body)}".encode("ascii")
        signature = self._signature(signing_input, alg, signing, key, hmac_secret)
        if tamper:
            signature = bytes([signature[0] ^ 0x01]) + signature[1:] if signature else b"\x00"
        return f"{signing_input.decode('ascii')}.{_b64(signature)}"

    def _signature(
        self, signing_input: bytes, alg: str, signing: _Key, key: str, hmac_secret: bytes | None
    ) -> bytes:
        if alg == "none":
            return b""
        if alg.startswith("HS"):
            secret = hmac_secret
            if secret is None:
                secret = _json_bytes(self._current("rsa").public_jwk())
            digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
            return hmac.new(secret, signing_input, digest[alg]).digest()
        if alg not in _KEY_FAMILY:
            raise ValueError(f"LocalIssuer cannot sign {alg!r}")
        private = signing.private
        if key == "foreign":
            if signing.family not in self._foreign:
                self._foreign[signing.family] = _generate(signing.family, self._rsa_bits)
            private = self._foreign[signing.family]
        elif key != "issuer":
            raise ValueError("key must be 'issuer' or 'foreign'")
        signed: bytes = _ALGORITHMS[alg].sign(signing_input, private)
        return signed

    # ------------------------------------------------------------------------------ clients

    def register_client(
        self,
        client_id: str,
        secret: str,
        *,
        scopes: Iterable[str] = (),
        audience: str | None = _UNSET,
        token_ttl: int | None = None,
        extra_claims: Mapping[str, Any] | None = None,
    ) -> RegisteredClient:
        """Allow ``client_id``/``secret`` to use the token endpoint, for at most ``scopes``.

        A request without ``scope`` gets every allowed scope; one asking for more gets
        ``invalid_scope``. Its tokens carry ``sub`` and ``client_id`` = ``client_id``, ``aud`` =
        ``audience`` (default: the issuer's), and ``extra_claims``.
        """
        client = RegisteredClient(
            client_id=client_id,
            secret=secret,
            scopes=tuple(scopes),
            audience=self.audience if audience is _UNSET else audience,
            token_ttl=self.token_ttl if token_ttl is None else token_ttl,
            extra_claims=dict(extra_claims or {}),
        )
        with self._lock:
            self._clients[client_id] = client
        return client

    def register_user(
        self,
        username: str,
        password: str,
        *,
        sub: str | None = None,
        claims: Mapping[str, Any] | None = None,
    ) -> LocalUser:
        """Add a user for the ``password`` grant (served only with ``password_grant=True``);
        ``claims`` (``email``, ``name``, ...) are what userinfo answers and id tokens carry."""
        user = LocalUser(username, password, sub or username, dict(claims or {}))
        with self._lock:
            self._users[username] = user
        return user

    def issue_tokens(
        self,
        client_id: str,
        username: str | None = None,
        *,
        scope: str | None = None,
        expires_in: int | None = None,
    ) -> dict[str, Any]:
        """A token response as the token endpoint would answer it (with a refresh token, and an
        id token for a registered user), without an HTTP request: for tests that start from a
        logged-in user."""
        with self._lock:
            client = self._clients.get(client_id)
            user = self._users.get(username) if username is not None else None
        if client is None:
            raise KeyError(f"no registered client {client_id!r}")
        return self._tokens_for(client, user, username, scope, expires_in, refresh=None)

    def _tokens_for(
        self,
        client: RegisteredClient,
        user: LocalUser | None,
        username: str | None,
        scope: str | None,
        expires_in: int | None,
        *,
        refresh: str | None,
    ) -> dict[str, Any]:
        ttl = client.token_ttl if expires_in is None else expires_in
        sub = user.sub if user is not None else (username or client.client_id)
        claims: dict[str, Any] = {"client_id": client.client_id, "token_use": "access"}
        if username is not None:
            claims["username"] = username
        jti = uuid.uuid4().hex
        claims["jti"] = jti
        access = self.mint(
            sub=sub, scope=scope, aud=client.audience, expires_in=ttl, claims=claims, typ="at+jwt"
        )
        doc: dict[str, Any] = {"access_token": access, "token_type": "Bearer", "expires_in": ttl}
        if scope:
            doc["scope"] = scope
        with self._lock:
            if refresh is None:
                refresh = secrets.token_urlsafe(32)
                self._refresh_tokens[refresh] = (client.client_id, username, scope, [jti])
            else:
                self._refresh_tokens[refresh][3].append(jti)
        doc["refresh_token"] = refresh
        if user is not None:
            doc["id_token"] = self.mint(
                sub=sub,
                aud=client.client_id,
                expires_in=ttl,
                claims={**dict(user.claims), "token_use": "id"},
            )
        return doc

    def _own_claims(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this issuer signed that is valid now and not revoked, else None."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return None
        with self._lock:
            key = next((k for k in self._keys if k.kid == header.get("kid")), None)
        alg = header.get("alg")
        if key is None or alg not in _KEY_FAMILY or _KEY_FAMILY[alg] != key.family:
            return None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.private.public_key(),
                algorithms=[alg],
                issuer=self.url,
                options={"verify_aud": False},
            )
        except jwt.PyJWTError:
            return None
        with self._lock:
            if claims.get("jti") in self._revoked_jtis:
                return None
        return claims

    # ------------------------------------------------------------------------------ counts, faults

    def _path(self, path: str) -> str:
        path = _ALIASES.get(path, path)
        if "://" in path:
            path = urlsplit(path).path
        if self._base_path and path.startswith(self._base_path):
            path = path[len(self._base_path) :]
        return path

    def request_count(self, path: str | None = None) -> int:
        """Requests received by ``path`` (a path, a full URL, or ``"discovery"``, ``"jwks"``,
        ``"token"``); all requests when None."""
        with self._lock:
            if path is None:
                return sum(self._counts.values())
            return self._counts[self._path(path)]

    def reset_counts(self) -> None:
        """Set every request count to zero and forget recorded token requests."""
        with self._lock:
            self._counts.clear()
            self.token_requests.clear()

    def fault(
        self,
        path: str,
        *,
        status: int | None = 503,
        body: bytes | str | Mapping[str, Any] = b"",
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        times: int | None = None,
    ) -> None:
        """Make ``path`` (as for :meth:`request_count`) answer ``status``/``body`` after ``delay``.

        ``status=None`` keeps the normal answer and only delays it. A dict body is sent as JSON.
        """
        if isinstance(body, Mapping):
            content = _json_bytes(dict(body))
            headers = {"Content-Type": "application/json", **(headers or {})}
        else:
            content = body.encode() if isinstance(body, str) else body
        with self._lock:
            self._faults[self._path(path)] = Fault(
                status=status, body=content, headers=dict(headers or {}), delay=delay, times=times
            )

    def fail(self, path: str, status: int = 503, *, times: int | None = None) -> None:
        """Make ``path`` answer ``status`` with an empty body (``times`` requests, or until cleared)."""
        self.fault(path, status=status, times=times)

    def hang(self, path: str, seconds: float = 30.0, *, times: int | None = None) -> None:
        """Make ``path`` wait ``seconds`` before its normal answer (for timeout tests).

        :meth:`stop` and :meth:`clear_faults` release waiting requests at once.
        """
        self._release.clear()
        self.fault(path, status=None, delay=seconds, times=times)

    def clear_faults(self) -> None:
        """Every endpoint answers normally again; hanging requests are released."""
        with self._lock:
            self._faults.clear()
        self._release.set()

    # ------------------------------------------------------------------------------ serving

    def _handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        path = self._path(raw_path) if raw_path.startswith(self._base_path) else raw_path
        with self._lock:
            self._counts[path] += 1
            fault = self._faults.get(path)
            if fault is not None and fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self._faults[path]
        if fault is not None:
            if fault.delay > 0:
                self._release.wait(fault.delay)
            if fault.status is not None:
                return fault.status, dict(fault.headers), fault.body
        if path == DISCOVERY_PATH and method in ("GET", "HEAD"):
            return 200, {"Content-Type": "application/json"}, _json_bytes(self.discovery())
        if path == JWKS_PATH and method in ("GET", "HEAD"):
            out = {"Content-Type": "application/json"}
            if self.jwks_max_age is not None:
                out["Cache-Control"] = f"public, max-age={self.jwks_max_age}"
            content = self._jwks_override
            return 200, out, content if content is not None else _json_bytes(self.jwks())
        if path == TOKEN_PATH:
            if method != "POST":
                return 405, {"Allow": "POST"}, b""
            return self._token(headers, body)
        if path in (REVOCATION_PATH, INTROSPECTION_PATH):
            if method != "POST":
                return 405, {"Allow": "POST"}, b""
            if path == REVOCATION_PATH:
                return self._revoke(headers, body)
            return self._introspect(headers, body)
        if path == USERINFO_PATH and method in ("GET", "POST"):
            return self._userinfo(headers)
        return 404, {"Content-Type": "application/json"}, _json_bytes({"error": "not_found"})

    def _authenticate(
        self, headers: dict[str, str], form: dict[str, str], record: dict[str, Any]
    ) -> RegisteredClient | None:
        """The registered client the request authenticates as (basic or post), else None."""
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        client_id: str | None
        if auth is not None and auth[:6].lower() == "basic ":
            record["auth_method"] = "client_secret_basic"
            try:
                decoded = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            raw_id, _, raw_secret = decoded.partition(":")
            # RFC 6749 section 2.3.1 form-urlencodes both parts first; many clients do not, so a
            # credential matches in either form.
            client_id, secret = raw_id, raw_secret
            if raw_id not in self._clients:
                client_id = unquote_plus(raw_id)
            known = self._clients.get(client_id)
            if known is not None and known.secret != raw_secret:
                secret = unquote_plus(raw_secret)
        elif "client_id" in form:
            record["auth_method"] = "client_secret_post"
            client_id, secret = form["client_id"], form.get("client_secret", "")
        else:
            record["auth_method"] = None
            client_id, secret = None, ""
        record["client_id"] = client_id
        client = self._clients.get(client_id or "")
        if client is None or not hmac.compare_digest(client.secret.encode(), secret.encode()):
            return None
        return client

    def _token(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        record: dict[str, Any] = {
            "grant_type": form.get("grant_type"),
            "scope": form.get("scope"),
            "content_type": next(
                (v for k, v in headers.items() if k.lower() == "content-type"), None
            ),
        }

        def error(status: int, code: str, description: str) -> tuple[int, dict[str, str], bytes]:
            record["error"] = code
            with self._lock:
                self.token_requests.append(record)
            out = {"Content-Type": "application/json", "Cache-Control": "no-store"}
            if status == 401:
                out["WWW-Authenticate"] = 'Basic realm="local-issuer"'
            doc = {"error": code, "error_description": description}
            return status, out, _json_bytes(doc)

        client = self._authenticate(headers, form, record)
        if client is None:
            return error(401, "invalid_client", "client authentication failed")
        grant = form.get("grant_type")
        if grant is None:
            return error(400, "invalid_request", "grant_type is required")
        if grant == "refresh_token" or (grant == "password" and self.password_grant):
            answer = self._user_grant(client, grant, form)
            if isinstance(answer, tuple):
                return error(*answer)
            record["error"] = None
            with self._lock:
                self.token_requests.append(record)
            return 200, _NO_STORE, _json_bytes(answer)
        if grant != "client_credentials":
            return error(400, "unsupported_grant_type", f"the {grant} grant is not supported")
        requested = form.get("scope")
        granted = tuple(requested.split()) if requested else client.scopes
        if not set(granted) <= set(client.scopes):
            return error(400, "invalid_scope", "a requested scope is not allowed for this client")
        audience = form.get("audience") or client.audience
        claims = {"client_id": client.client_id, "token_use": "access", **client.extra_claims}
        token = self.mint(
            sub=client.client_id,
            scope=" ".join(granted) if granted else None,
            aud=audience,
            expires_in=client.token_ttl,
            claims=claims,
            typ="at+jwt",
        )
        record["error"] = None
        with self._lock:
            self.token_requests.append(record)
        doc: dict[str, Any] = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": client.token_ttl,
        }
        if granted:
            doc["scope"] = " ".join(granted)
        out = {
            "Content-Type": "application/json",
            "Cache-Control": "no-store",
            "Pragma": "no-cache",
        }
        return 200, out, _json_bytes(doc)

    def _user_grant(
        self, client: RegisteredClient, grant: str, form: dict[str, str]
    ) -> dict[str, Any] | tuple[int, str, str]:
        """The answer of a ``refresh_token`` or ``password`` grant, or (status, error, text)."""
        if grant == "refresh_token":
            refresh = form.get("refresh_token") or ""
            with self._lock:
                held = self._refresh_tokens.get(refresh)
                user = self._users.get(held[1] or "") if held is not None else None
            if held is None or held[0] != client.client_id:
                return 400, "invalid_grant", "the refresh token is invalid or revoked"
            scope = form.get("scope") or held[2]
            if held[2] is not None and scope and not set(scope.split()) <= set(held[2].split()):
                return 400, "invalid_scope", "the scope exceeds the original grant"
            return self._tokens_for(client, user, held[1], scope, None, refresh=refresh)
        username = form.get("username") or ""
        with self._lock:
            user = self._users.get(username)
        password = form.get("password") or ""
        if user is None or not hmac.compare_digest(user.password.encode(), password.encode()):
            return 400, "invalid_grant", "wrong user name or password"
        requested = form.get("scope")
        return self._tokens_for(client, user, username, requested, None, refresh=None)

    def _revoke(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        """RFC 7009: revoke a refresh token (and its access tokens) or an access token."""
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        if self._authenticate(headers, form, {}) is None:
            return _oauth_error(401, "invalid_client", "client authentication failed")
        token = form.get("token")
        if not token:
            return _oauth_error(400, "invalid_request", "token is required")
        with self._lock:
            held = self._refresh_tokens.pop(token, None)
            if held is not None:
                self._revoked_jtis.update(held[3])
        if held is None:
            claims = self._own_claims(token)
            if claims is not None and isinstance(claims.get("jti"), str):
                with self._lock:
                    self._revoked_jtis.add(claims["jti"])
        return 200, _NO_STORE, b""

    def _introspect(
        self, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """RFC 7662: ``{"active": false}`` for an unknown, expired or revoked token."""
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        if self._authenticate(headers, form, {}) is None:
            return _oauth_error(401, "invalid_client", "client authentication failed")
        token = form.get("token")
        if not token:
            return _oauth_error(400, "invalid_request", "token is required")
        with self._lock:
            held = self._refresh_tokens.get(token)
        if held is not None:
            doc: dict[str, Any] = {
                "active": True,
                "client_id": held[0],
                "token_type": "refresh_token",
            }
            if held[1] is not None:
                doc["username"] = held[1]
            if held[2]:
                doc["scope"] = held[2]
            return 200, _NO_STORE, _json_bytes(doc)
        claims = self._own_claims(token)
        if claims is None:
            return 200, _NO_STORE, _json_bytes({"active": False})
        return 200, _NO_STORE, _json_bytes({"active": True, "token_type": "Bearer", **claims})

    def _userinfo(self, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """OIDC userinfo: the claims of the user a valid access token stands for."""
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        claims = self._own_claims(token) if token else None
        if claims is None or not isinstance(claims.get("sub"), str):
            challenge = 'Bearer error="invalid_token"' if token else "Bearer"
            return (
                401,
                {"WWW-Authenticate": challenge, "Content-Type": "application/json"},
                (_json_bytes({"error": "invalid_token"})),
            )
        with self._lock:
            user = self._users.get(claims.get("username") or "")
        doc = {"sub": claims["sub"], **(dict(user.claims) if user is not None else {})}
        return (
            200,
            {"Content-Type": "application/json", "Cache-Control": "no-store"},
            (_json_bytes(doc)),
        )


_NO_STORE = {"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"}


def _oauth_error(status: int, code: str, description: str) -> tuple[int, dict[str, str], bytes]:
    out = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    if status == 401:
        out["WWW-Authenticate"] = 'Basic realm="local-issuer"'
    return status, out, _json_bytes({"error": code, "error_description": description})
