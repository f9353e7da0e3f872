"""Hostile input through the real console script: no secret of a URL setting or argument in the
output, hostile settings as one error line naming the variable, and no control, C1 or bidi
character from a token, a token server, a query string or a setting reaching the terminal raw."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

PW = "S3cretPw"
DEEP = "[" * 30000 + "]" * 30000
# What a terminal would obey or what reorders text: C0 controls but the newline, DEL, C1 controls,
# bidi and zero-width format characters, line and paragraph separators.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
HOSTILE = "a\r\x1b[2K\x1b]0;pwned\x07\x9b31m\u202eb\x7f"


def _no_raw(text: str) -> None:
    found = RAW.search(text)
    assert found is None, f"raw {found.group()!r} in {text!r}"


@dataclass
class Raw:
    """A finished run's exit status and output, decoded without newline translation (a CR the
    terminal would obey stays a CR)."""

    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture
def midil_raw(
    midil_script: str, cli_env: Callable[..., dict[str, str]], tmp_path: Path
) -> Callable[..., Raw]:
    """``midil_raw(*args, env={...})``: the console script's raw output; any raw control, C1 or
    bidi character in it fails the test."""

    def run(*args: str, env: dict[str, str] | None = None) -> Raw:
        done = subprocess.run(
            [midil_script, *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=cli_env(**(env or {})),
            cwd=tmp_path,
            timeout=30,
        )
        result = Raw(
            done.returncode,
            done.stdout.decode("utf-8", "surrogateescape"),
            done.stderr.decode("utf-8", "surrogateescape"),
        )
        _no_raw(result.stdout)
        _no_raw(result.stderr)
        return result

    return run


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# ------------------------------------------------------------------------- secrets of URLs


@pytest.mark.parametrize(
    "issuer", [f"https://user:{PW}@idp.example", f"http://idp.example/?key={PW}"]
)
def test_verify_names_a_refused_issuer_by_its_host_alone(midil: Any, issuer: str) -> None:
    done = midil("token", "verify", "--issuer", issuer, "a.b.c")
    assert done.returncode == 1
    line = done.one_error_line()
    assert "idp.example" in line and "ConfigError" in line
    assert PW not in done.output


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MIDIL_AUTH__ISSUER", f"https://user:{PW}@idp.example"),
        ("MIDIL_AUTH__JWKS_URL", f"https://user:{PW}@idp.example/jwks"),
        ("MIDIL_SERVICE_AUTH__TOKEN_URL", f"https://svc:{PW}@idp.example/oauth2/token"),
        ("MIDIL_SERVICE_AUTH__COGNITO_DOMAIN", f"https://svc:{PW}@auth.example"),
    ],
)
def test_settings_check_refuses_user_info_in_url_settings_without_echo(
    midil: Any, variable: str, value: str
) -> None:
    text = midil("settings", "check", env={variable: value})
    assert text.returncode == 1 and variable in text.one_error_line()
    as_json = midil("settings", "check", "-o", "json", env={variable: value})
    assert as_json.returncode == 1 and as_json.json()["variable"] == variable
    assert PW not in text.output + as_json.output


def test_settings_check_masks_the_query_values_of_url_settings(midil: Any) -> None:
    env = {
        "MIDIL_SERVICE_AUTH__TOKEN_URL": f"https://idp.example/oauth2/token?client_secret={PW}",
        "MIDIL_AUTH__JWKS_URL": f"https://keys.example/jwks?tenant=a&key={PW}",
    }
    text = midil("settings", "check", "--only-set", env=env)
    assert text.returncode == 0, text.stderr
    assert "https://idp.example/oauth2/token?client_secret=" in text.stdout
    assert "https://keys.example/jwks?tenant=" in text.stdout
    as_json = midil("settings", "check", "--only-set", "-o", "json", env=env)
    values = {row["variable"]: row["value"] for row in as_json.json()["settings"]}
    assert values["MIDIL_AUTH__JWKS_URL"].startswith("https://keys.example/jwks?tenant=")
    assert PW not in text.output + as_json.output


# ------------------------------------------------------------------------- hostile settings


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MIDIL_SERVICE_AUTH", '{"client_secret": "' + PW + '", bad'),
        ("MIDIL_AUTH", DEEP),
        ("MIDIL_AUTH__CLIENT_IDS", DEEP),
    ],
)
def test_settings_check_reports_hostile_json_in_one_line_naming_the_variable(
    midil: Any, variable: str, value: str
) -> None:
    text = midil("settings", "check", env={variable: value})
    assert text.returncode == 1
    line = text.one_error_line()
    assert variable in line and "unexpected" not in line
    as_json = midil("settings", "check", "-o", "json", env={variable: value})
    assert as_json.returncode == 1
    assert as_json.json()["valid"] is False and as_json.json()["variable"] == variable
    assert PW not in text.output + as_json.output


def test_settings_check_refuses_an_infinite_timeout_and_prints_strict_json(midil: Any) -> None:
    done = midil("settings", "check", "-o", "json", env={"MIDIL_HTTP__READ_TIMEOUT": "inf"})
    assert done.returncode == 1

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} is not JSON")

    assert json.loads(done.stdout, parse_constant=refuse)["variable"] == (
        "MIDIL_HTTP__READ_TIMEOUT"
    )


# ------------------------------------------------------------------------- terminal injection


def test_token_decode_escapes_hostile_claims_and_header_keys(midil_raw: Any) -> None:
    header = {"alg": "RS256", "typ": "JWT", "k" + HOSTILE: "v" + HOSTILE}
    claims = {"sub": HOSTILE, "role" + HOSTILE: [HOSTILE], "exp": 4102444800}
    token = ".".join(
        [_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()), _b64(b"sig")]
    )
    text = midil_raw("token", "decode", token)
    assert text.returncode == 0, text.stderr
    assert "a\\r\\x1b[2K\\x1b]0;pwned\\x07\\x9b31m\\u202eb\\x7f" in text.stdout
    as_json = midil_raw("token", "decode", token, "-o", "json")
    assert as_json.returncode == 0
    assert as_json.json()["claims"] == claims and as_json.json()["header"] == header


@pytest.fixture
def hostile_token_server() -> Iterator[str]:
    """A token endpoint on 127.0.0.1 whose answer's ``scope`` is :data:`HOSTILE`."""
    body = json.dumps(
        {"access_token": "AT", "token_type": "Bearer", "expires_in": 3600, "scope": HOSTILE}
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/token"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_token_fetch_escapes_a_hostile_scope(midil_raw: Any, hostile_token_server: str) -> None:
    env = {"MIDIL_SERVICE_AUTH__CLIENT_SECRET": PW}
    args = ("token", "fetch", "--token-url", hostile_token_server, "--client-id", "cid")
    text = midil_raw(*args, env=env)
    assert text.returncode == 0, text.stderr
    assert "a\\r\\x1b[2K\\x1b]0;pwned" in text.stdout
    as_json = midil_raw(*args, "-o", "json", env=env)
    assert as_json.json()["scope"] == HOSTILE


def test_jsonapi_query_escapes_percent_decoded_filter_values(midil_raw: Any) -> None:
    query = "filter[name]=%1b%5b2K%0dfilters%20%20(none)%1b]0;t%07%c2%9b%e2%80%ae"
    text = midil_raw("jsonapi", "query", query)
    assert text.returncode == 0, text.stderr
    assert "\\x1b[2K\\rfilters  (none)\\x1b]0;t\\x07\\x9b\\u202e" in text.stdout
    as_json = midil_raw("jsonapi", "query", query, "-o", "json")
    assert as_json.json()["filters"][0]["value"] == "\x1b[2K\rfilters  (none)\x1b]0;t\x07\x9b\u202e"
    # A refused query: the error rows and the error document name the hostile parameter.
    for output in ("text", "json"):
        refused = midil_raw("jsonapi", "query", "x%1b%0d%c2%9b%e2%80%ae=1", "-o", output)
        assert refused.returncode == 1


def test_settings_check_escapes_hostile_values_and_variable_names(midil_raw: Any) -> None:
    env = {"MIDIL_AUTH__REALM": HOSTILE, "MIDIL_ZZZ" + HOSTILE: "1"}
    text = midil_raw("settings", "check", "--only-set", env=env)
    assert text.returncode == 0, text.stderr
    assert "MIDIL_AUTH__REALM  a\\r\\x1b[2K" in text.stdout
    assert "unknown: MIDIL_ZZZa\\r\\x1b" in text.stdout
    as_json = midil_raw("settings", "check", "--only-set", "-o", "json", env=env)
    assert as_json.json()["settings"][0]["value"] == HOSTILE
    in_section = midil_raw("settings", "check", env={"MIDIL_HTTP__X" + HOSTILE: "1"})
    assert in_section.returncode == 1 and "MIDIL_HTTP__X" in in_section.stderr


# ------------------------------------------------------------------------- text from AWS


def test_sqs_peek_and_schedule_show_escape_what_aws_holds(midil_raw: Any, moto_server: Any) -> None:
    # A queue's message and a schedule's description are anyone's text, not the kit's.
    import boto3

    env = {"MIDIL_EVENTS__ENDPOINT_URL": moto_server.endpoint_url}
    sqs = boto3.client("sqs", **moto_server.client_kwargs())
    url = sqs.create_queue(QueueName=f"cli-hostile-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=HOSTILE)
    for output in ("text", "json"):
        peeked = midil_raw("sqs", "peek", url, "-o", output, env=env)
        assert peeked.returncode == 0, peeked.stderr
    scheduler = boto3.client("scheduler", **moto_server.client_kwargs())
    name = f"cli-hostile-{uuid.uuid4().hex[:8]}"
    scheduler.create_schedule(
        Name=name,
        ScheduleExpression="rate(5 minutes)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Description=HOSTILE,
        Target={
            "Arn": "arn:aws:sqs:us-east-1:123456789012:scheduled",
            "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
            "Input": HOSTILE,
        },
    )
    for args in (("show", name), ("list", "--prefix", name)):
        for output in ("text", "json"):
            listed = midil_raw("schedule", *args, "-o", output, env=env)
            assert listed.returncode == 0, listed.stderr
    assert "pwned" in midil_raw("schedule", "show", name, env=env).stdout
