"""The JSON:API media type in DRF: the renderer, the parser and JSON:API 1.1 content negotiation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from rest_framework.exceptions import ParseError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.renderers import BaseRenderer, JSONRenderer

from midil_common.adapters.jsonapi import MEDIA_TYPE, negotiate_request, render_document
from midil_common.errors import MidilError
from midil_sync.django.drf.exceptions import wrap

if TYPE_CHECKING:
    from rest_framework.request import Request

__all__ = ["JSONAPIContentNegotiation", "JSONAPIParser", "JSONAPIRenderer"]


class JSONAPIRenderer(JSONRenderer):
    """Renders JSON:API documents (models, mappings) as ``application/vnd.api+json``."""

    media_type = MEDIA_TYPE
    format = "vnd.api+json"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        """The document's bytes (nothing for None)."""
        if data is None:
            return b""
        return render_document(data)


class JSONAPIParser(JSONParser):
    """Parses ``application/vnd.api+json`` request bodies."""

    media_type = MEDIA_TYPE

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        """The body's JSON; ``ParseError`` (400) for a body that is not JSON or nests too deeply."""
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            # A deeply nested body exhausts the JSON parser's stack; DRF catches only ValueError,
            # so without this the client's body would be a 500.
            raise ParseError("JSON parse error - the body is nested too deeply") from None


class JSONAPIContentNegotiation(DefaultContentNegotiation):
    """JSON:API 1.1 negotiation before DRF's own: 415 for a body that is not JSON:API (or uses an
    unsupported extension), 406 when ``Accept`` asks for unsupported parameters or extensions.

    The extensions and profiles a view supports are its ``jsonapi_extensions`` / ``jsonapi_profiles``.
    """

    def _supported(self, request: Request) -> tuple[tuple[str, ...], tuple[str, ...]]:
        view = (getattr(request, "parser_context", None) or {}).get("view")
        return (
            tuple(getattr(view, "jsonapi_extensions", ())),
            tuple(getattr(view, "jsonapi_profiles", ())),
        )

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        """Check ``Accept`` the JSON:API way, then let DRF pick the renderer."""
        extensions, profiles = self._supported(request)
        try:
            negotiate_request(
                "GET",
                None,
                request.META.get("HTTP_ACCEPT"),
                extensions=extensions,
                profiles=profiles,
            )
        except MidilError as exc:
            raise wrap(exc) from exc
        return super().select_renderer(request, renderers, format_suffix)  # type: ignore[no-any-return]

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        """Check ``Content-Type`` the JSON:API way, then let DRF pick the parser."""
        extensions, profiles = self._supported(request)
        try:
            negotiate_request(
                request.method or "GET",
                request.content_type,
                None,
                extensions=extensions,
                profiles=profiles,
            )
        except MidilError as exc:
            raise wrap(exc) from exc
        return super().select_parser(request, parsers)
