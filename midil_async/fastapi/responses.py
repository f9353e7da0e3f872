"""Responses carrying JSON:API documents: the route response class and the kit's error answers."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from midil_common.adapters import ErrorResponse
from midil_common.adapters.jsonapi import MEDIA_TYPE, render_document

__all__ = ["JSONAPIResponse"]


def as_response(err: ErrorResponse) -> Response:
    """The Starlette response for the core's error response (status, headers, JSON:API body)."""
    return Response(
        err.body(), status_code=err.status, headers=dict(err.headers), media_type=MEDIA_TYPE
    )


class JSONAPIResponse(Response):
    """A response whose body is a JSON:API document (a model, a mapping or JSON text)."""

    media_type = MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        """Serialize ``content``; models use their own ``model_dump_json``."""
        if content is None:
            return b""
        return render_document(content)
