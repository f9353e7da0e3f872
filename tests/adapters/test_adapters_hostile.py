"""Hostile inputs to the adapters' shared core: bounded time, and only the documented errors."""

from __future__ import annotations

import json
import time

import pytest

from midil_common.adapters import ErrorResponse, error_object, parse_authorization
from midil_common.errors import MalformedTokenError


@pytest.mark.parametrize(
    "header",
    [
        "Bearer" + " " * 50_000 + "x\n y",
        "Bearer x" + " " * 50_000 + "\ny",
        "Bearer " + "a " * 50_000 + "\n",
        "Bearer\t" + "\t " * 50_000 + "\n",
    ],
)
def test_line_breaks_after_many_spaces_are_refused_in_linear_time(header: str) -> None:
    # A line break (a folded header, which werkzeug and Django pass through) once made the
    # credentials regex backtrack over every space: quadratic, tens of seconds at this size.
    started = time.perf_counter()
    with pytest.raises(MalformedTokenError):
        parse_authorization(header)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    ("header", "expected"),
    [("Basic a\nb", None), ("Basic" + " " * 50_000 + "a\nb", None)],
)
def test_line_breaks_in_other_schemes_still_mean_no_bearer_token(
    header: str, expected: str | None
) -> None:
    started = time.perf_counter()
    assert parse_authorization(header) == expected
    assert time.perf_counter() - started < 0.5


def test_an_error_document_holding_a_lone_surrogate_still_renders() -> None:
    # A client's "\ud800" (valid JSON escape, no UTF-8 form) echoed as a field name or detail.
    response = ErrorResponse(
        400, {"errors": [error_object(400, detail="bad \ud800", pointer="/data/attributes/\udfff")]}
    )
    document = json.loads(response.body())
    assert document["errors"][0]["detail"] == "bad \ud800"
    assert document["errors"][0]["source"]["pointer"] == "/data/attributes/\udfff"
    # Without surrogates the body stays readable UTF-8.
    assert (
        ErrorResponse(400, {"errors": [{"detail": "é"}]}).body()
        == '{"errors":[{"detail":"é"}]}'.encode()
    )
