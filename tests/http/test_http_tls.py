"""HTTPS with a private CA and mutual TLS, for both shells, over a real local TLS server."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from midil_common.errors import TransportError
from midil_common.http import RetryPolicy

FAST = RetryPolicy(sleep=False, max_attempts=1)


def _issue(
    name: str, issuer: tuple[Any, x509.Name] | None, *, ca: bool = False, server: bool = False
) -> tuple[Any, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    signer_key, signer_name = issuer if issuer is not None else (key, subject)
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(signer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    return key, builder.sign(signer_key, hashes.SHA256())


def _write(directory: Path, name: str, key: Any, cert: x509.Certificate) -> tuple[str, str]:
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp("pki")
    ca_key, ca_cert = _issue("test-ca", None, ca=True)
    ca = (ca_key, ca_cert.subject)
    server = _write(directory, "server", *_issue("server", ca, server=True))
    client = _write(directory, "client", *_issue("orders-client", ca))
    ca_path, _ = _write(directory, "ca", ca_key, ca_cert)
    return {"ca": ca_path, "server": server, "client": client}


@pytest.fixture
def tls_server(server_factory: Any, pki: dict[str, Any]) -> Any:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*pki["server"])
    context.load_verify_locations(pki["ca"])
    context.verify_mode = ssl.CERT_REQUIRED
    srv = server_factory()
    srv.tls = context
    return srv


async def test_mutual_tls_with_a_private_ca(
    make: Any, tls_server: Any, pki: dict[str, Any]
) -> None:
    client = make("HttpClient", verify=pki["ca"], cert=pki["client"], retry=FAST)
    response = await client.get(tls_server.url("/secure"))
    assert response.status_code == 200 and response.json() == {"ok": True}
    subject = dict(item[0] for item in tls_server.peer_certs[-1]["subject"])
    assert subject["commonName"] == "orders-client"


async def test_without_a_client_certificate_the_server_refuses(
    make: Any, tls_server: Any, pki: dict[str, Any]
) -> None:
    client = make("HttpClient", verify=pki["ca"], retry=FAST)
    with pytest.raises(TransportError):
        await client.get(tls_server.url("/secure"))
    assert tls_server.count == 0


async def test_an_unknown_ca_is_refused(make: Any, tls_server: Any, pki: dict[str, Any]) -> None:
    client = make("HttpClient", cert=pki["client"], retry=FAST)
    with pytest.raises(TransportError):
        await client.get(tls_server.url("/secure"))
    assert tls_server.count == 0
