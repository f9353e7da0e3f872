"""The exception the FastAPI dependencies raise: a kit error with its status, headers and document."""

from __future__ import annotations

from starlette.exceptions import HTTPException as StarletteHTTPException

from midil_common.adapters import ErrorResponse, error_response

__all__ = ["MidilHTTPException"]


class MidilHTTPException(StarletteHTTPException):
    """A kit error raised from a dependency, carrying its status, headers and JSON:API document.

    ``register_exception_handlers`` renders the document; without it FastAPI's default handler still
    answers with the right status and ``WWW-Authenticate`` header.
    """

    def __init__(self, error: BaseException, *, realm: str | None = None) -> None:
        self.error_response: ErrorResponse = error_response(error, realm=realm)
        super().__init__(
            status_code=self.error_response.status,
            detail=str(error) or None,
            headers=dict(self.error_response.headers) or None,
        )
