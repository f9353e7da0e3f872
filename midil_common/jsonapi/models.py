"""JSON:API 1.1 documents as pydantic models.

Optional members default to pydantic's ``MISSING`` sentinel, so a member that was not given is not
written either (``"data": null`` and an absent ``data`` are different documents). Syntax is checked by
pydantic-core while parsing (types, member-name and URI patterns, run in Rust); the rules that need the
whole document (member exclusivity, full linkage, ``type``+``id`` uniqueness, ``lid`` consistency, the
fields namespace, link names, 1.0 mode) run afterwards in one Python pass (``midil_common.jsonapi.rules``).

Validation context keys (``Document.model_validate(obj, context={...})``):

* ``"jsonapi_version": "1.0"`` applies 1.0's stricter rules (absolute link URLs, no @-members, no ``lid``,
  ``ext`` or ``profile``, no ``links``/``relationships`` inside attribute values).
* ``"sparse_fieldsets": True`` says sparse fieldsets were applied, which relaxes full linkage.

``model_validate``/``model_validate_json`` of every model here raise ``InvalidDocumentError``; nested
inside another model (or as a framework request body) pydantic's ``ValidationError`` surfaces instead,
and ``errors_from_validation`` turns it into error objects.

Hostile input: both entry points refuse a document nested deeper than ``MAX_DEPTH`` levels, a Python
object that contains itself, and numbers JSON cannot hold (``NaN``, ``Infinity``, ``1e400``).
``model_dump_json`` raises ``ValueError`` rather than write a NaN or an infinity (which pydantic would
write as ``null``) that reached a model without validation (``model_construct``, later mutation).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, ClassVar

from pydantic import (
    MISSING,
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    Strict,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from typing_extensions import Self

from midil_common.errors import InvalidDocumentError
from midil_common.jsonapi.names import (
    FIELD_KEY_PATTERN,
    JSON_POINTER_PATTERN,
    TYPE_PATTERN,
    URI_REFERENCE_PATTERN,
)

__all__ = [
    "MISSING",
    "CreateDocument",
    "Document",
    "ErrorObject",
    "ErrorSource",
    "JSONAPIObject",
    "Link",
    "LinkValue",
    "Links",
    "Meta",
    "Relationship",
    "RelationshipDocument",
    "ResourceIdentifier",
    "ResourceObject",
    "UpdateDocument",
]

FieldKey = Annotated[str, StringConstraints(pattern=FIELD_KEY_PATTERN)]
TypeName = Annotated[str, StringConstraints(pattern=TYPE_PATTERN)]
UriReference = Annotated[str, StringConstraints(pattern=URI_REFERENCE_PATTERN)]
JsonPointer = Annotated[str, StringConstraints(pattern=JSON_POINTER_PATTERN)]
StatusCode = Annotated[str, StringConstraints(pattern=r"^[1-5][0-9][0-9]$")]
LanguageTag = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")]

#: A meta object: free-form, but its member names follow the member-name rules.
Meta = dict[FieldKey, Any]

# Union-typed members are written with SerializeAsAny: pydantic-core then serialises each value by
# its runtime type instead of trying the union's branches, which makes model_dump_json ~40% faster.
# Object-or-array members are left-to-right unions nested inside the optional/nullable part: a smart
# union there costs ~15% of the parse of a large document.

# Any JSON value that is not a string: the fallback branch of unions whose real branches failed, so
# that @-members (which may hold anything) pass parsing; the rule pass re-validates every other member
# that landed here and reports the detailed errors.
_NonStringJSON = (
    Annotated[bool, Strict()]
    | Annotated[int, Strict()]
    | Annotated[float, Strict()]
    | dict[str, Any]
    | list[Any]
)


class _Object(BaseModel):
    """Base of every JSON:API object: extra members are kept, and judged by the rule pass.

    (Typing ``__pydantic_extra__`` would move the name check into pydantic-core, but it makes
    serialisation about a third slower, so the rule pass does it.)
    """

    # "constants" writes NaN/Infinity as such, so model_dump_json can refuse them instead of the
    # silent null of pydantic's default.
    model_config = ConfigDict(extra="allow", cache_strings="all", ser_json_inf_nan="constants")

    # Which rule-pass function checks a standalone instance of this class.
    _rule: ClassVar[str] = ""
    _inline_rules: ClassVar[bool] = False

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        """Validate ``obj`` (a dict) and apply the JSON:API rules; raise ``InvalidDocumentError``."""
        try:
            inst = super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            raise _invalid(exc) from None
        _check_standalone(inst, kwargs.get("context"))
        return inst

    @classmethod
    def model_validate_json(
        cls, json_data: str | bytes | bytearray, *args: Any, **kwargs: Any
    ) -> Self:
        """Parse and validate JSON text and apply the JSON:API rules; raise ``InvalidDocumentError``."""
        try:
            inst = super().model_validate_json(json_data, *args, **kwargs)
        except ValidationError as exc:
            raise _invalid(exc) from None
        _check_standalone(inst, kwargs.get("context"))
        return inst

    def model_dump_json(self, **kwargs: Any) -> str:
        """Write JSON (``model_dump_json``'s arguments); ``ValueError`` for a NaN or an infinity."""
        text = super().model_dump_json(**kwargs)
        # One memchr-speed look for each token's first letter; the exact check runs only when the
        # letter is there, and refuses only a token outside strings.
        if ("N" in text and "NaN" in text) or ("I" in text and "Infinity" in text):
            _refuse_non_finite(text)
        return text


class _NonFinite(Exception):
    pass


def _non_finite(name: str) -> Any:
    raise _NonFinite(name)


def _skip(text: str) -> None:
    return None


def _refuse_non_finite(text: str) -> None:
    try:
        json.loads(text, parse_constant=_non_finite, parse_int=_skip, parse_float=_skip)
    except _NonFinite:
        raise ValueError(
            "cannot write this document: a number is NaN or infinite, which is not JSON; "
            "numbers must be finite (the document skipped validation, or was changed after it)"
        ) from None
    except (ValueError, RecursionError):  # pragma: no cover - only a document built unchecked
        return


def _invalid(exc: ValidationError) -> InvalidDocumentError:
    from midil_common.jsonapi.problems import errors_from_validation

    errors = errors_from_validation(exc, pointer_prefix="")
    first = errors[0].detail if errors and isinstance(errors[0].detail, str) else "invalid"
    return InvalidDocumentError(f"invalid JSON:API document: {first}", errors=errors)


def _check_standalone(inst: _Object, context: Any) -> None:
    # Documents ran their rules in their own after-validator already.
    if inst._rule and not inst._inline_rules:
        from midil_common.jsonapi import rules

        errors = rules.check_object(inst, context)
        if errors:
            raise InvalidDocumentError(
                f"invalid JSON:API document: {errors[0].detail}", errors=errors
            )


class Link(_Object):
    """A link object: ``href`` and, in 1.1, ``rel``, ``describedby``, ``title``, ``type``, ``hreflang``."""

    _rule = "link"

    href: UriReference
    rel: str | MISSING = MISSING
    describedby: SerializeAsAny[UriReference | Link | MISSING] = MISSING
    title: str | MISSING = MISSING
    type: str | MISSING = MISSING
    hreflang: SerializeAsAny[LanguageTag | list[LanguageTag] | MISSING] = MISSING
    meta: Meta | MISSING = MISSING


#: The value of a links member: a URI-reference, a link object, or null.
LinkValue = SerializeAsAny[
    Annotated[UriReference | Link | _NonStringJSON | None, Field(union_mode="left_to_right")]
]
#: A links object; which names are allowed depends on where it sits (checked by the rule pass).
Links = dict[str, LinkValue]


class ErrorSource(_Object):
    """Where an error came from: a JSON ``pointer`` into the request, a query ``parameter`` or a ``header``."""

    _rule = "source"

    pointer: JsonPointer | MISSING = MISSING
    parameter: str | MISSING = MISSING
    header: str | MISSING = MISSING


class ErrorObject(_Object):
    """One JSON:API error object; every member is optional but at least one must be present."""

    _rule = "error"

    id: str | MISSING = MISSING
    links: Links | MISSING = MISSING
    status: StatusCode | MISSING = MISSING
    code: str | MISSING = MISSING
    title: str | MISSING = MISSING
    detail: str | MISSING = MISSING
    source: ErrorSource | MISSING = MISSING
    meta: Meta | MISSING = MISSING


class JSONAPIObject(_Object):
    """The top-level ``jsonapi`` object: version, applied extensions and profiles (absolute URIs)."""

    _rule = "jsonapi"

    version: str | MISSING = MISSING
    ext: list[str] | MISSING = MISSING
    profile: list[str] | MISSING = MISSING
    meta: Meta | MISSING = MISSING


class ResourceIdentifier(_Object):
    """A resource identifier object: ``type`` and ``id`` (or, for a new resource in 1.1, ``lid``)."""

    _rule = "identifier"

    type: TypeName
    id: str | MISSING = MISSING
    lid: str | MISSING = MISSING
    meta: Meta | MISSING = MISSING


class Relationship(_Object):
    """A relationship object: at least one of ``links``, ``data`` (resource linkage) and ``meta``."""

    _rule = "relationship"

    links: Links | MISSING = MISSING
    data: SerializeAsAny[
        Annotated[ResourceIdentifier | list[ResourceIdentifier], Field(union_mode="left_to_right")]
        | MISSING
        | None
    ] = MISSING
    meta: Meta | MISSING = MISSING


_RelationshipValue = SerializeAsAny[
    Annotated[Relationship | Any, Field(union_mode="left_to_right")]
]


class ResourceObject(_Object):
    """A resource object.

    ``id`` is required everywhere except in a ``CreateDocument``. Relationship values that are not
    ``Relationship`` instances only occur for @-members, which the specification says to ignore.
    """

    _rule = "resource"

    type: TypeName
    id: str | MISSING = MISSING
    lid: str | MISSING = MISSING
    attributes: dict[FieldKey, Any] | MISSING = MISSING
    relationships: dict[FieldKey, _RelationshipValue] | MISSING = MISSING
    links: Links | MISSING = MISSING
    meta: Meta | MISSING = MISSING

    @property
    def identifier(self) -> ResourceIdentifier:
        """This resource's identifier object (``type`` with ``id`` and/or ``lid``)."""
        return ResourceIdentifier.model_construct(type=self.type, id=self.id, lid=self.lid)


def _document_rules(doc: Any, info: ValidationInfo) -> None:
    from midil_common.jsonapi import rules

    errors = rules.check_object(doc, info.context)
    if errors:
        raise InvalidDocumentError(f"invalid JSON:API document: {errors[0].detail}", errors=errors)


class Document(_Object):
    """A top-level JSON:API document (a response, or any document read from the wire).

    ``data`` is a resource object, a list of them, or ``None``; a document about a relationship carries
    identifiers, which are resource objects without fields here.
    """

    _rule = "document"
    _inline_rules = True

    jsonapi: JSONAPIObject | MISSING = MISSING
    links: Links | MISSING = MISSING
    data: SerializeAsAny[
        Annotated[list[ResourceObject] | ResourceObject, Field(union_mode="left_to_right")]
        | MISSING
        | None
    ] = MISSING
    errors: list[ErrorObject] | MISSING = MISSING
    included: list[ResourceObject] | MISSING = MISSING
    meta: Meta | MISSING = MISSING

    @model_validator(mode="after")
    def _jsonapi_rules(self, info: ValidationInfo) -> Self:
        _document_rules(self, info)
        return self

    def model_dump_json(self, **kwargs: Any) -> str:
        """Write the document as JSON (compact; members that were never given are left out).

        Takes ``model_dump_json``'s keyword arguments. Serialisation warnings are off by default: every
        member was validated on the way in, and the type checks behind the warnings cost ~6%.
        """
        kwargs.setdefault("warnings", False)
        return super().model_dump_json(**kwargs)  # refuses NaN and infinities (see _Object)

    @property
    def resources(self) -> list[ResourceObject]:
        """The primary resources as a list (empty for ``null``, an error document or a meta document)."""
        data = self.data
        if isinstance(data, list):
            return data
        if isinstance(data, ResourceObject):
            return [data]
        return []


class CreateDocument(_Object):
    """A POST body: one resource object whose ``id`` may be absent and which may carry ``lid``."""

    _rule = "create"
    _inline_rules = True

    data: ResourceObject
    meta: Meta | MISSING = MISSING
    jsonapi: JSONAPIObject | MISSING = MISSING
    links: Links | MISSING = MISSING

    @model_validator(mode="after")
    def _jsonapi_rules(self, info: ValidationInfo) -> Self:
        _document_rules(self, info)
        return self


class UpdateDocument(_Object):
    """A PATCH body: one resource object with ``id``; the fields present are the ones to change."""

    _rule = "update"
    _inline_rules = True

    data: ResourceObject
    meta: Meta | MISSING = MISSING
    jsonapi: JSONAPIObject | MISSING = MISSING
    links: Links | MISSING = MISSING

    @model_validator(mode="after")
    def _jsonapi_rules(self, info: ValidationInfo) -> Self:
        _document_rules(self, info)
        return self


class RelationshipDocument(_Object):
    """A relationship PATCH/POST/DELETE body: resource linkage only (an identifier, a list, or null)."""

    _rule = "relationship_document"
    _inline_rules = True

    data: SerializeAsAny[ResourceIdentifier | list[ResourceIdentifier] | None]
    meta: Meta | MISSING = MISSING
    jsonapi: JSONAPIObject | MISSING = MISSING
    links: Links | MISSING = MISSING

    @model_validator(mode="after")
    def _jsonapi_rules(self, info: ValidationInfo) -> Self:
        _document_rules(self, info)
        return self
