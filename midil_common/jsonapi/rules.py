"""The JSON:API rules that need more than one member: one pass over a parsed document.

pydantic-core has already checked types and patterns; this pass checks member exclusivity, extra
members (@-members, extension members), link names, the fields namespace, full linkage, uniqueness of
``type``+``id``, ``lid`` consistency and the 1.0 restrictions. It walks each object once and builds JSON
pointers only when it reports an error, so a valid document costs little more than the loop itself.
"""

from __future__ import annotations

from typing import Any

from pydantic import MISSING, ValidationError

from midil_common.jsonapi.models import (
    CreateDocument,
    Document,
    ErrorObject,
    ErrorSource,
    JSONAPIObject,
    Link,
    Relationship,
    RelationshipDocument,
    ResourceIdentifier,
    ResourceObject,
    UpdateDocument,
)
from midil_common.jsonapi.names import (
    ABSOLUTE_URI_RE,
    EXT_MEMBER_RE,
    MEMBER_NAME_RE,
    escape_pointer_token,
)

__all__ = ["check_object", "context_options"]

_PAGINATION = frozenset({"first", "last", "prev", "next"})
_TOP_LINKS = frozenset({"self", "related", "describedby"}) | _PAGINATION
_TOP_LINKS_10 = frozenset({"self", "related"}) | _PAGINATION
_RELATIONSHIP_LINKS = frozenset({"self", "related"}) | _PAGINATION
_RESOURCE_LINKS = frozenset({"self"})
_ERROR_LINKS = frozenset({"about", "type"})
_ERROR_LINKS_10 = frozenset({"about"})
_LINK_10_MEMBERS = ("rel", "describedby", "title", "type", "hreflang")
_CONTAINERS = (dict, list)


def context_options(context: Any) -> tuple[bool, bool]:
    """``(version_1_0, sparse_fieldsets)`` from a validation context (a dict or None)."""
    if not isinstance(context, dict):
        return False, False
    return context.get("jsonapi_version") == "1.0", bool(context.get("sparse_fieldsets"))


def _short(name: str) -> str:
    return name if len(name) <= 40 else name[:37] + "..."


class _Pass:
    """One validation pass: the options and the errors found so far."""

    __slots__ = ("errors", "lid_objs", "v10")

    def __init__(self, v10: bool) -> None:
        self.v10 = v10
        self.errors: list[ErrorObject] = []
        # Objects carrying a ``lid`` (pointer, object), for the consistency check at the end.
        self.lid_objs: list[tuple[str, Any]] = []

    def add(self, ptr: str, detail: str, title: str = "Invalid document") -> None:
        self.errors.append(
            ErrorObject(
                status="400",
                code="invalid_document",
                title=title,
                detail=detail,
                source=ErrorSource(pointer=ptr),
            )
        )

    def revalidated(self, model: type[Any], value: Any, ptr: str, what: str) -> None:
        """Report why ``value`` (which fell through to a union's fallback branch) is not a ``model``."""
        from midil_common.jsonapi.problems import errors_from_validation

        if not isinstance(value, dict):
            self.add(ptr, f"must be {what}")
            return
        try:
            model.__pydantic_validator__.validate_python(value)
        except ValidationError as exc:
            self.errors.extend(errors_from_validation(exc, pointer_prefix=ptr))
        else:  # pragma: no cover - the union tried this branch first and it failed
            self.add(ptr, f"must be {what}")

    # ------------------------------------------------------------------------------ member names

    def extras(self, obj: Any, ptr: str) -> bool:
        """Judge members outside the specification; return whether an extension member is present."""
        extra = obj.__pydantic_extra__
        if not extra:
            return False
        has_ext = False
        for name in extra:
            if not self.v10:
                if name[:1] == "@" and MEMBER_NAME_RE.fullmatch(name):
                    continue
                if EXT_MEMBER_RE.fullmatch(name):
                    has_ext = True
                    continue
            self.add(
                ptr + "/" + escape_pointer_token(name),
                f"'{_short(name)}' is not a member of this object",
            )
        return has_ext

    def top_keys(self, obj: dict[str, Any], ptr: str, attribute: bool) -> None:
        """1.0 only: no @-members, and no ``links``/``relationships`` inside attribute values.

        The keys themselves were checked against the member-name syntax while parsing. Names nested
        inside attribute values and meta objects are application data and are not inspected in 1.1
        (as in the official JSON Schemas).
        """
        if not self.v10:
            return
        for name, value in obj.items():
            if name[:1] == "@":
                self.add(
                    ptr + "/" + escape_pointer_token(name),
                    "@-members are not allowed in JSON:API 1.0",
                )
            elif attribute and isinstance(value, _CONTAINERS):
                self.reserved(value, ptr + "/" + escape_pointer_token(name))

    def reserved(self, value: dict[str, Any] | list[Any], ptr: str) -> None:
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, _CONTAINERS):
                    self.reserved(item, f"{ptr}/{i}")
            return
        for name, item in value.items():
            if name == "links" or name == "relationships":
                self.add(
                    ptr + "/" + name,
                    f"an object inside an attribute must not have a '{name}' member (1.0)",
                )
            if isinstance(item, _CONTAINERS):
                self.reserved(item, ptr + "/" + escape_pointer_token(name))

    def meta(self, meta: Any, ptr: str) -> None:
        if self.v10 and meta is not MISSING and meta:
            self.top_keys(meta, ptr, False)

    # ------------------------------------------------------------------------------------ links

    def links(self, links: dict[str, Any], ptr: str, allowed: frozenset[str]) -> set[str]:
        """Check a links object; return the names of the links it holds."""
        present: set[str] = set()
        v10 = self.v10
        for name, value in links.items():
            if name not in allowed:
                if not v10 and (
                    (name[:1] == "@" and MEMBER_NAME_RE.fullmatch(name))
                    or EXT_MEMBER_RE.fullmatch(name)
                ):
                    present.add(name)
                    continue
                self.add(
                    ptr + "/" + escape_pointer_token(name),
                    f"'{_short(name)}' is not an allowed link here",
                )
                continue
            present.add(name)
            if value is None:
                if v10 and name not in _PAGINATION:
                    self.add(ptr + "/" + name, "only pagination links may be null in 1.0")
            elif type(value) is str:
                if v10 and ABSOLUTE_URI_RE.fullmatch(value) is None:
                    self.add(ptr + "/" + name, "a link must be an absolute URI in 1.0")
            elif type(value) is Link:
                self.link_object(value, ptr + "/" + name)
            else:
                self.revalidated(Link, value, ptr + "/" + name, "a string, a link object or null")
        return present

    def link_object(self, link: Link, ptr: str) -> None:
        self.extras(link, ptr)
        if self.v10:
            if ABSOLUTE_URI_RE.fullmatch(link.href) is None:
                self.add(ptr + "/href", "a link must be an absolute URI in 1.0")
            for name in _LINK_10_MEMBERS:
                if getattr(link, name) is not MISSING:
                    self.add(ptr + "/" + name, f"'{name}' is a JSON:API 1.1 link member")
        described = link.describedby
        if type(described) is Link:
            self.link_object(described, ptr + "/describedby")
        self.meta(link.meta, ptr + "/meta")

    # ----------------------------------------------------------------------- resources, linkage

    def identifier(self, ident: ResourceIdentifier, ptr: str, linked: set[tuple[str, str]]) -> None:
        if ident.__pydantic_extra__:
            self.extras(ident, ptr)
        ident_id = ident.id
        lid = ident.lid
        if ident_id is not MISSING:
            linked.add((ident.type, ident_id))
        if lid is not MISSING:
            if self.v10:
                self.add(ptr + "/lid", "'lid' is a JSON:API 1.1 member")
            linked.add((ident.type, "\x00" + lid))
            self.lid_objs.append((ptr, ident))
        elif ident_id is MISSING:
            self.add(ptr, "a resource identifier must contain 'id' (or 'lid' for a new resource)")
        if ident.meta is not MISSING:
            self.meta(ident.meta, ptr + "/meta")

    def relationship(
        self, rel: Relationship, ptr: str, request: bool, linked: set[tuple[str, str]]
    ) -> None:
        has_ext = self.extras(rel, ptr) if rel.__pydantic_extra__ else False
        data = rel.data
        links = rel.links
        if data is MISSING:
            if request:
                self.add(ptr, "a relationship in a request must contain 'data'")
            elif links is MISSING and rel.meta is MISSING and not has_ext:
                self.add(ptr, "a relationship must contain at least one of links, data, meta")
        elif isinstance(data, list):
            for i, ident in enumerate(data):
                self.identifier(ident, f"{ptr}/data/{i}", linked)
        elif data is not None:
            self.identifier(data, ptr + "/data", linked)
        if links is not MISSING:
            present = self.links(links, ptr + "/links", _RELATIONSHIP_LINKS)
            if (
                "self" not in present
                and "related" not in present
                and not (present - _RELATIONSHIP_LINKS)
            ):
                self.add(ptr + "/links", "relationship links must contain 'self' or 'related'")
        if rel.meta is not MISSING:
            self.meta(rel.meta, ptr + "/meta")

    def resource(
        self,
        res: ResourceObject,
        ptr: str,
        need_id: bool,
        request: bool,
        linked: set[tuple[str, str]],
    ) -> None:
        """Every rule of one resource object, with pointers (``_fast_resource`` serves plain ones)."""
        fields = res.__dict__
        if res.__pydantic_extra__:
            self.extras(res, ptr)
        if need_id and fields["id"] is MISSING:
            self.add(ptr, "a resource object must contain 'id'")
        if fields["lid"] is not MISSING:
            if self.v10:
                self.add(ptr + "/lid", "'lid' is a JSON:API 1.1 member")
            self.lid_objs.append((ptr, res))
        attrs = fields["attributes"]
        if attrs is not MISSING:
            for reserved in ("type", "id"):
                if reserved in attrs:
                    self.add(
                        f"{ptr}/attributes/{reserved}",
                        "an attribute must not be named 'type' or 'id'",
                    )
            if self.v10:
                self.top_keys(attrs, ptr + "/attributes", True)
        rels = fields["relationships"]
        if rels is not MISSING:
            for reserved in ("type", "id"):
                if reserved in rels:
                    self.add(
                        f"{ptr}/relationships/{reserved}",
                        "a relationship must not be named 'type' or 'id'",
                    )
            if attrs is not MISSING and attrs and not attrs.keys().isdisjoint(rels.keys()):
                for name in attrs.keys() & rels.keys():
                    if name[:1] != "@":
                        self.add(
                            ptr + "/relationships/" + escape_pointer_token(name),
                            f"'{_short(name)}' is both an attribute and a relationship",
                        )
            for name, rel in rels.items():
                if type(rel) is Relationship:
                    self.relationship(
                        rel, ptr + "/relationships/" + escape_pointer_token(name), request, linked
                    )
                elif name[:1] == "@" and not self.v10:
                    continue
                elif name[:1] == "@":
                    self.add(
                        ptr + "/relationships/" + escape_pointer_token(name),
                        "@-members are not allowed in JSON:API 1.0",
                    )
                else:
                    self.revalidated(
                        Relationship,
                        rel,
                        ptr + "/relationships/" + escape_pointer_token(name),
                        "a relationship object",
                    )
        links = fields["links"]
        if links is not MISSING and (
            self.v10 or len(links) != 1 or type(links.get("self")) is not str
        ):
            self.links(links, ptr + "/links", _RESOURCE_LINKS)
        self.meta(fields["meta"], ptr + "/meta")

    def lids(self) -> None:
        """Every representation of a resource carries the same ``lid`` (and the same ``id`` for it)."""
        by_lid: dict[tuple[str, str], str] = {}
        by_id: dict[tuple[str, str], str] = {}
        for ptr, obj in self.lid_objs:
            lid = obj.lid
            obj_id = obj.id
            if obj_id is MISSING:
                continue
            known = by_lid.setdefault((obj.type, lid), obj_id)
            if known != obj_id:
                self.add(ptr + "/lid", f"lid '{_short(lid)}' names two different resources")
            known_lid = by_id.setdefault((obj.type, obj_id), lid)
            if known_lid != lid:
                self.add(ptr + "/lid", "one resource carries two different lids")

    # ----------------------------------------------------------------------------- top level

    def jsonapi(self, obj: JSONAPIObject, ptr: str) -> None:
        self.extras(obj, ptr)
        for member in ("ext", "profile"):
            uris = getattr(obj, member)
            if uris is MISSING:
                continue
            if self.v10:
                self.add(f"{ptr}/{member}", f"'{member}' is a JSON:API 1.1 member")
                continue
            for i, uri in enumerate(uris):
                if ABSOLUTE_URI_RE.fullmatch(uri) is None:
                    self.add(f"{ptr}/{member}/{i}", f"each {member} entry must be an absolute URI")
            if len(set(uris)) != len(uris):
                self.add(f"{ptr}/{member}", f"{member} entries must be unique")
        self.meta(obj.meta, ptr + "/meta")

    def error(self, err: ErrorObject, ptr: str) -> None:
        has_ext = self.extras(err, ptr) if err.__pydantic_extra__ else False
        members = err.model_fields_set.difference(err.__pydantic_extra__ or ())
        if not members and not has_ext:
            self.add(ptr, "an error object must contain at least one member")
        if err.links is not MISSING:
            self.links(err.links, ptr + "/links", _ERROR_LINKS_10 if self.v10 else _ERROR_LINKS)
        source = err.source
        if source is not MISSING:
            self.extras(source, ptr + "/source")
            if self.v10 and source.header is not MISSING:
                self.add(ptr + "/source/header", "'header' is a JSON:API 1.1 member")
        self.meta(err.meta, ptr + "/meta")

    def top(self, doc: Any, top_links: bool = True) -> bool:
        has_ext = self.extras(doc, "") if doc.__pydantic_extra__ else False
        if doc.jsonapi is not MISSING:
            self.jsonapi(doc.jsonapi, "/jsonapi")
        if doc.links is not MISSING:
            self.links(doc.links, "/links", _TOP_LINKS_10 if self.v10 else _TOP_LINKS)
        self.meta(doc.meta, "/meta")
        return has_ext

    def document(self, doc: Document, sparse: bool) -> None:
        has_ext = self.top(doc)
        data = doc.data
        errors = doc.errors
        if data is MISSING and errors is MISSING and doc.meta is MISSING and not has_ext:
            self.add("", "a document must contain at least one of data, errors, meta")
        if data is not MISSING and errors is not MISSING:
            self.add("", "a document must not contain both data and errors")
        included = doc.included
        if included is not MISSING and data is MISSING:
            self.add("/included", "a document without data must not contain included")
        if errors is not MISSING:
            for i, err in enumerate(errors):
                self.error(err, f"/errors/{i}")
        linked: set[tuple[str, str]] = set()
        seen: set[tuple[Any, Any]] = set()
        if type(data) is list:
            self.collection(data, "/data", linked, seen)
        elif isinstance(data, ResourceObject):
            self.collection([data], "", linked, seen, single="/data")
        if included is MISSING:
            if self.lid_objs:
                self.lids()
            return
        primary_keys = set(seen)
        self.collection(included, "/included", linked, seen)
        # Primary data are identifiers too (a relationship document's included resources hang on them).
        linked.update(primary_keys)
        if not sparse:
            for i, res in enumerate(included):
                fields = res.__dict__
                if (fields["type"], fields["id"]) in linked:
                    continue
                lid = fields["lid"]
                if lid is not MISSING and (fields["type"], "\x00" + lid) in linked:
                    continue
                self.add(
                    f"/included/{i}",
                    "full linkage: this included resource is not identified by any resource "
                    "linkage in the document",
                )
        if self.lid_objs:
            self.lids()

    def collection(
        self,
        items: list[ResourceObject],
        base: str,
        linked: set[tuple[str, str]],
        seen: set[tuple[Any, Any]],
        single: str = "",
    ) -> None:
        """Check resources of ``data`` or ``included``: each once, and each ``type``+``id`` once."""
        fast = None if self.v10 else _fast_resource
        linked_add = linked.add
        for i, res in enumerate(items):
            key = fast(res, linked_add) if fast is not None else None
            if key is None:
                ptr = single or f"{base}/{i}"
                self.resource(res, ptr, True, False, linked)
                key = _identity(res)
            if key in seen:
                self.add(
                    single or f"{base}/{i}",
                    "a document must not contain two resources with the same type and id",
                )
            seen.add(key)


def _fast_resource(
    res: ResourceObject,
    linked_add: Any,
    _missing: Any = MISSING,
    _relationship: Any = Relationship,
    _rel_links: frozenset[str] = _RELATIONSHIP_LINKS,
    _str: type = str,
    _list: type = list,
) -> Any:
    """The common, plain, valid resource (1.1): record its linkage and return its ``(type, id)``.

    Returns None at the first unusual member (extras, lid, missing id, a non-string link, a clash,
    ...); the caller then runs the full check, which reports errors with pointers. The defaults bind
    module globals as locals: this runs once per resource of every document.
    """
    fields = res.__dict__
    if res.__pydantic_extra__ or fields["lid"] is not _missing:
        return None
    res_id = fields["id"]
    if res_id is _missing:
        return None
    attrs = fields["attributes"]
    if attrs is not _missing and ("type" in attrs or "id" in attrs):
        return None
    rels = fields["relationships"]
    if rels is not _missing:
        if "type" in rels or "id" in rels:
            return None
        for name, rel in rels.items():
            if type(rel) is not _relationship or rel.__pydantic_extra__:
                return None
            if attrs is not _missing and name in attrs:
                return None
            rf = rel.__dict__
            links = rf["links"]
            if links is not _missing:
                named = False
                for link_name, value in links.items():
                    if link_name not in _rel_links or (
                        value is not None and type(value) is not _str
                    ):
                        return None
                    if link_name == "self" or link_name == "related":
                        named = True
                if not named:
                    return None
            data = rf["data"]
            if data is _missing:
                if links is _missing and rf["meta"] is _missing:
                    return None
                continue
            if data is None:
                continue
            if type(data) is not _list:
                data = (data,)
            for ident in data:
                f = ident.__dict__
                ident_id = f["id"]
                if ident.__pydantic_extra__ or f["lid"] is not _missing or ident_id is _missing:
                    return None
                linked_add((f["type"], ident_id))
    links = fields["links"]
    if links is not _missing:
        for link_name, value in links.items():
            if link_name != "self" or (value is not None and type(value) is not _str):
                return None
    return (fields["type"], res_id)


def _identity(res: ResourceObject) -> tuple[Any, Any]:
    """``(type, id)``; for a resource known only by ``lid``, ``(type, "\\x00" + lid)``."""
    if res.id is not MISSING:
        return (res.type, res.id)
    if res.lid is not MISSING:
        return (res.type, "\x00" + res.lid)
    return (res.type, id(res))


def check_object(obj: Any, context: Any) -> list[ErrorObject]:
    """Apply the JSON:API rules to a parsed model; return the errors (empty when valid)."""
    v10, sparse = context_options(context)
    p = _Pass(v10)
    linked: set[tuple[str, str]] = set()
    if type(obj) is Document:
        p.document(obj, sparse)
    elif type(obj) is CreateDocument or type(obj) is UpdateDocument:
        p.top(obj)
        p.resource(obj.data, "/data", type(obj) is UpdateDocument, True, linked)
    elif type(obj) is RelationshipDocument:
        p.top(obj)
        data = obj.data
        if isinstance(data, list):
            for i, ident in enumerate(data):
                p.identifier(ident, f"/data/{i}", linked)
        elif data is not None:
            p.identifier(data, "/data", linked)
    elif isinstance(obj, ResourceObject):
        p.resource(obj, "", False, False, linked)
    elif isinstance(obj, ResourceIdentifier):
        p.identifier(obj, "", linked)
    elif isinstance(obj, Relationship):
        p.relationship(obj, "", False, linked)
    elif isinstance(obj, Link):
        p.link_object(obj, "")
    elif isinstance(obj, ErrorObject):
        p.error(obj, "")
    elif isinstance(obj, JSONAPIObject):
        p.jsonapi(obj, "")
    if p.lid_objs and type(obj) is not Document:
        p.lids()
    return p.errors
