"""The JSON:API rules that need more than one member: one pass over a parsed document.

pydantic-core has already checked types and patterns; this pass checks member exclusivity, extra
members (@-members, extension members), link names, the fields namespace, full linkage, uniqueness of
``type``+``id``, ``lid`` consistency and the 1.0 restrictions, and that free-form values (attributes,
meta, extension members) nest at most ``MAX_DEPTH`` levels, hold no cycle and no NaN or infinity. It
walks each object once, without recursion a document could drive, and builds JSON pointers only when
it reports an error, so a valid document costs little more than the loop itself.

Every check of an object takes its ``level``: the top-level object is 1, a member object or array adds
one.
"""

from __future__ import annotations

from typing import Any

from pydantic import MISSING, ValidationError

from midil_common.jsonapi.limits import (
    MAX_DEPTH,
    MAX_ERRORS,
    MORE_ERRORS,
    TOO_DEEP,
    is_flat,
    members_fit,
    plain_members,
    value_problem,
)
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
_CONTAINERS = (dict, list, tuple)


def context_options(context: Any) -> tuple[bool, bool]:
    """``(version_1_0, sparse_fieldsets)`` from a validation context (a dict or None)."""
    if not isinstance(context, dict):
        return False, False
    return context.get("jsonapi_version") == "1.0", bool(context.get("sparse_fieldsets"))


def _short(name: str) -> str:
    return name if len(name) <= 40 else name[:37] + "..."


class _Pass:
    """One validation pass: the options and the errors found so far."""

    __slots__ = ("errors", "found", "lid_objs", "v10")

    def __init__(self, v10: bool) -> None:
        self.v10 = v10
        # The first MAX_ERRORS problems as error objects; ``found`` counts them all.
        self.errors: list[ErrorObject] = []
        self.found = 0
        # Objects carrying a ``lid`` (pointer, object), for the consistency check at the end.
        self.lid_objs: list[tuple[str, Any]] = []

    def add(self, ptr: str, detail: str, title: str = "Invalid document") -> None:
        self.found += 1
        if len(self.errors) >= MAX_ERRORS:
            return
        if not ptr.isascii():
            # A member name holding a lone surrogate: escaped, so the error document can be written.
            ptr = ptr.encode("utf-8", "backslashreplace").decode()
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
            for error in errors_from_validation(exc, pointer_prefix=ptr):
                self.found += 1
                if len(self.errors) < MAX_ERRORS:
                    self.errors.append(error)
        else:  # pragma: no cover - the union tried this branch first and it failed
            self.add(ptr, f"must be {what}")

    # ------------------------------------------------------------------------------ member names

    def free(self, members: dict[Any, Any], ptr: str, level: int) -> None:
        """Check the free-form values of ``members``, an object at ``level`` (or its extra members).

        Each value may nest ``MAX_DEPTH - level`` more levels, must not contain itself and must hold
        no NaN or infinity.
        """
        room = MAX_DEPTH - level
        for name, value in members.items():
            found = value_problem(value, room)
            if found is not None:
                path, detail = found
                self.add(
                    ptr
                    + "/"
                    + escape_pointer_token(str(name))
                    + "".join("/" + escape_pointer_token(str(key)) for key in path),
                    detail,
                )

    def free_members(self, members: Any, ptr: str, level: int) -> None:
        """``free`` for a members object that may be MISSING or empty; plain values cost one check."""
        if members is not MISSING and members and not is_flat(members.values()):
            self.free(members, ptr, level)

    def extras(self, obj: Any, ptr: str, level: int) -> bool:
        """Judge members outside the specification; return whether an extension member is present."""
        extra = obj.__pydantic_extra__
        if not extra:
            return False
        if not is_flat(extra.values()):
            self.free(extra, ptr, level)
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

    def reserved(self, value: dict[str, Any] | list[Any] | tuple[Any, ...], ptr: str) -> None:
        """1.0: no ``links``/``relationships`` member in an object inside an attribute value.

        Depth-first and in member order, without recursion; each container is looked at once and
        never deeper than ``MAX_DEPTH`` (the depth check reports what lies beyond).
        """
        seen = {id(value)}
        stack: list[tuple[Any, str]] = [(_members(value), ptr)]
        while stack:
            items, at = stack[-1]
            for name, item in items:
                if type(name) is str and (name == "links" or name == "relationships"):
                    self.add(
                        at + "/" + name,
                        f"an object inside an attribute must not have a '{name}' member (1.0)",
                    )
                if (
                    isinstance(item, _CONTAINERS)
                    and id(item) not in seen
                    and len(stack) < MAX_DEPTH
                ):
                    seen.add(id(item))
                    stack.append((_members(item), at + "/" + escape_pointer_token(str(name))))
                    break
            else:
                stack.pop()

    def meta(self, meta: Any, ptr: str, level: int) -> None:
        """A meta object at ``level``: free-form values, and 1.0's ban on @-members."""
        if meta is MISSING or not meta:
            return
        if not is_flat(meta.values()):
            self.free(meta, ptr, level)
        if self.v10:
            self.top_keys(meta, ptr, False)

    # ------------------------------------------------------------------------------------ links

    def links(
        self, links: dict[str, Any], ptr: str, allowed: frozenset[str], level: int
    ) -> set[str]:
        """Check a links object at ``level``; return the names of the links it holds."""
        present: set[str] = set()
        v10 = self.v10
        for name, value in links.items():
            if name not in allowed:
                if not v10 and (
                    (name[:1] == "@" and MEMBER_NAME_RE.fullmatch(name))
                    or EXT_MEMBER_RE.fullmatch(name)
                ):
                    present.add(name)
                    if type(value) is Link:
                        self.ignored_link(value, ptr + "/" + escape_pointer_token(name), level + 1)
                    elif value is not None and type(value) is not str:
                        self.free({name: value}, ptr, level)
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
                self.link_object(value, ptr + "/" + name, level + 1)
            else:
                before = self.found
                self.free({name: value}, ptr, level)
                if self.found == before:
                    self.revalidated(
                        Link, value, ptr + "/" + name, "a string, a link object or null"
                    )
        return present

    def ignored_link(self, link: Link, ptr: str, level: int) -> None:
        """A link object under an @-member or extension name: no rules, only what JSON can hold."""
        while True:
            if level > MAX_DEPTH:
                self.add(ptr, TOO_DEEP)
                return
            self.free_members(link.__pydantic_extra__, ptr, level)
            self.free_members(link.meta, ptr + "/meta", level + 1)
            described = link.describedby
            if type(described) is not Link:
                return
            link, ptr, level = described, ptr + "/describedby", level + 1

    def link_object(self, link: Link, ptr: str, level: int) -> None:
        """A link object at ``level`` and the chain of ``describedby`` link objects inside it."""
        while True:
            if level > MAX_DEPTH:
                self.add(ptr, TOO_DEEP)
                return
            self.extras(link, ptr, level)
            if self.v10:
                if ABSOLUTE_URI_RE.fullmatch(link.href) is None:
                    self.add(ptr + "/href", "a link must be an absolute URI in 1.0")
                for name in _LINK_10_MEMBERS:
                    if getattr(link, name) is not MISSING:
                        self.add(ptr + "/" + name, f"'{name}' is a JSON:API 1.1 link member")
            self.meta(link.meta, ptr + "/meta", level + 1)
            described = link.describedby
            if type(described) is not Link:
                return
            link, ptr, level = described, ptr + "/describedby", level + 1

    # ----------------------------------------------------------------------- resources, linkage

    def identifier(
        self, ident: ResourceIdentifier, ptr: str, linked: set[tuple[str, str]], level: int
    ) -> None:
        if ident.__pydantic_extra__:
            self.extras(ident, ptr, level)
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
            self.meta(ident.meta, ptr + "/meta", level + 1)

    def relationship(
        self, rel: Relationship, ptr: str, request: bool, linked: set[tuple[str, str]], level: int
    ) -> None:
        has_ext = self.extras(rel, ptr, level) if rel.__pydantic_extra__ else False
        data = rel.data
        links = rel.links
        if data is MISSING:
            if request:
                self.add(ptr, "a relationship in a request must contain 'data'")
            elif links is MISSING and rel.meta is MISSING and not has_ext:
                self.add(ptr, "a relationship must contain at least one of links, data, meta")
        elif isinstance(data, list):
            for i, ident in enumerate(data):
                self.identifier(ident, f"{ptr}/data/{i}", linked, level + 2)
        elif data is not None:
            self.identifier(data, ptr + "/data", linked, level + 1)
        if links is not MISSING:
            present = self.links(links, ptr + "/links", _RELATIONSHIP_LINKS, level + 1)
            if (
                "self" not in present
                and "related" not in present
                and not (present - _RELATIONSHIP_LINKS)
            ):
                self.add(ptr + "/links", "relationship links must contain 'self' or 'related'")
        if rel.meta is not MISSING:
            self.meta(rel.meta, ptr + "/meta", level + 1)

    def resource(
        self,
        res: ResourceObject,
        ptr: str,
        need_id: bool,
        request: bool,
        linked: set[tuple[str, str]],
        level: int,
    ) -> None:
        """Every rule of one resource object, with pointers (``_fast_resource`` serves plain ones)."""
        fields = res.__dict__
        if res.__pydantic_extra__:
            self.extras(res, ptr, level)
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
            self.free_members(attrs, ptr + "/attributes", level + 1)
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
                        rel,
                        ptr + "/relationships/" + escape_pointer_token(name),
                        request,
                        linked,
                        level + 2,
                    )
                elif name[:1] == "@" and not self.v10:
                    self.free({name: rel}, ptr + "/relationships", level + 1)
                elif name[:1] == "@":
                    self.add(
                        ptr + "/relationships/" + escape_pointer_token(name),
                        "@-members are not allowed in JSON:API 1.0",
                    )
                else:
                    before = self.found
                    self.free({name: rel}, ptr + "/relationships", level + 1)
                    if self.found == before:
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
            self.links(links, ptr + "/links", _RESOURCE_LINKS, level + 1)
        self.meta(fields["meta"], ptr + "/meta", level + 1)

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

    def jsonapi(self, obj: JSONAPIObject, ptr: str, level: int) -> None:
        self.extras(obj, ptr, level)
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
        self.meta(obj.meta, ptr + "/meta", level + 1)

    def error(self, err: ErrorObject, ptr: str, level: int) -> None:
        has_ext = self.extras(err, ptr, level) if err.__pydantic_extra__ else False
        members = err.model_fields_set.difference(err.__pydantic_extra__ or ())
        if not members and not has_ext:
            self.add(ptr, "an error object must contain at least one member")
        if err.links is not MISSING:
            self.links(
                err.links,
                ptr + "/links",
                _ERROR_LINKS_10 if self.v10 else _ERROR_LINKS,
                level + 1,
            )
        source = err.source
        if source is not MISSING:
            self.source(source, ptr + "/source", level + 1)
        self.meta(err.meta, ptr + "/meta", level + 1)

    def source(self, source: ErrorSource, ptr: str, level: int) -> None:
        self.extras(source, ptr, level)
        if self.v10 and source.header is not MISSING:
            self.add(ptr + "/header", "'header' is a JSON:API 1.1 member")

    def top(self, doc: Any, top_links: bool = True) -> bool:
        has_ext = self.extras(doc, "", 1) if doc.__pydantic_extra__ else False
        if doc.jsonapi is not MISSING:
            self.jsonapi(doc.jsonapi, "/jsonapi", 2)
        if doc.links is not MISSING:
            self.links(doc.links, "/links", _TOP_LINKS_10 if self.v10 else _TOP_LINKS, 2)
        self.meta(doc.meta, "/meta", 2)
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
                self.error(err, f"/errors/{i}", 3)
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
        level = 2 if single else 3
        # The attributes and meta objects the fast path let through, checked together at the end.
        free: list[dict[str, Any]] = []
        free_add = free.append
        for i, res in enumerate(items):
            key = fast(res, linked_add, free_add) if fast is not None else None
            if key is None:
                ptr = single or f"{base}/{i}"
                self.resource(res, ptr, True, False, linked, level)
                key = _identity(res)
            if key in seen:
                self.add(
                    single or f"{base}/{i}",
                    "a document must not contain two resources with the same type and id",
                )
            seen.add(key)
        if free and not plain_members(free, MAX_DEPTH - level - 1):
            # Something unusual (deep, NaN, shared, not a JSON type): judge each one exactly, and
            # let the full check report those that fail, with pointers.
            room = MAX_DEPTH - level - 1
            passed = {id(members) for members in free}
            for i, res in enumerate(items):
                fields = res.__dict__
                checked = [
                    members
                    for members in (fields["attributes"], fields["meta"])
                    if members is not MISSING and id(members) in passed
                ]
                if checked and not all(members_fit(members, room) for members in checked):
                    self.resource(res, single or f"{base}/{i}", True, False, linked, level)


def _fast_resource(
    res: ResourceObject,
    linked_add: Any,
    free_add: Any,
    _missing: Any = MISSING,
    _relationship: Any = Relationship,
    _rel_links: frozenset[str] = _RELATIONSHIP_LINKS,
    _str: type = str,
    _list: type = list,
    _is_flat: Any = is_flat,
) -> Any:
    """The common, plain, valid resource (1.1): record its linkage and return its ``(type, id)``.

    Returns None at the first unusual member (extras, lid, missing id, a non-string link, a clash,
    ...); the caller then runs the full check, which reports errors with pointers. The attributes
    and meta objects go to ``free_add``: the caller checks their values all at once. The defaults
    bind module globals as locals: this runs once per resource of every document.
    """
    fields = res.__dict__
    if res.__pydantic_extra__ or fields["lid"] is not _missing:
        return None
    res_id = fields["id"]
    if res_id is _missing:
        return None
    attrs = fields["attributes"]
    if attrs is not _missing:
        if "type" in attrs or "id" in attrs:
            return None
        free_add(attrs)
    meta = fields["meta"]
    if meta is not _missing:
        free_add(meta)
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
            if rf["meta"] is not _missing and not _is_flat(rf["meta"].values()):
                return None
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
                if f["meta"] is not _missing and not _is_flat(f["meta"].values()):
                    return None
                linked_add((f["type"], ident_id))
    links = fields["links"]
    if links is not _missing:
        for link_name, value in links.items():
            if link_name != "self" or (value is not None and type(value) is not _str):
                return None
    return (fields["type"], res_id)


def _members(value: Any) -> Any:
    """An iterator over ``(name, value)`` of an object, ``(index, item)`` of an array."""
    if isinstance(value, dict):
        return iter(value.items())
    return enumerate(value)


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
        p.resource(obj.data, "/data", type(obj) is UpdateDocument, True, linked, 2)
    elif type(obj) is RelationshipDocument:
        p.top(obj)
        data = obj.data
        if isinstance(data, list):
            for i, ident in enumerate(data):
                p.identifier(ident, f"/data/{i}", linked, 3)
        elif data is not None:
            p.identifier(data, "/data", linked, 2)
    elif isinstance(obj, ResourceObject):
        p.resource(obj, "", False, False, linked, 1)
    elif isinstance(obj, ResourceIdentifier):
        p.identifier(obj, "", linked, 1)
    elif isinstance(obj, Relationship):
        p.relationship(obj, "", False, linked, 1)
    elif isinstance(obj, Link):
        p.link_object(obj, "", 1)
    elif isinstance(obj, ErrorObject):
        p.error(obj, "", 1)
    elif isinstance(obj, JSONAPIObject):
        p.jsonapi(obj, "", 1)
    elif isinstance(obj, ErrorSource):
        p.source(obj, "", 1)
    if p.lid_objs and type(obj) is not Document:
        p.lids()
    if p.found > len(p.errors):
        p.errors[-1] = ErrorObject(
            status="400",
            code="invalid_document",
            title="Invalid document",
            detail=MORE_ERRORS,
            source=ErrorSource(pointer=""),
        )
    return p.errors
