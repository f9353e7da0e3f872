"""JSON:API query parameters: ``include``, ``sort``, ``fields[TYPE]``, ``filter[...]``, ``page[...]``.

``parse_query`` turns what any framework hands over (a mapping, a list of pairs, or the raw query string)
into a frozen ``QueryParams`` and refuses what the specification or the caller's allow-lists do not
accept with ``InvalidQueryError`` (status 400, one error object per problem, ``source.parameter`` set).

Hostile input: list-valued parameters hold at most ``max_items`` entries (``MAX_QUERY_ITEMS``) and the
work is linear in the size of the query. Error objects never echo a parameter's value; they name the
parameter in ``source.parameter``, percent-encoded wherever it is not plain printable ASCII (control
characters, spaces, quotes, backslashes, ``%``, ``<``, ``>``, ``&`` and non-ASCII characters) and cut
to 64 characters followed by ``...``, so neither markup nor terminal escapes come back.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, quote

from midil_common.errors import InvalidQueryError
from midil_common.jsonapi.limits import MAX_ERRORS, MAX_QUERY_ITEMS, MORE_ERRORS
from midil_common.jsonapi.models import ErrorObject, ErrorSource
from midil_common.jsonapi.names import TYPE_PATTERN

__all__ = ["FilterParam", "Page", "QueryInput", "QueryParams", "SortField", "parse_query"]

_NAME_RE = re.compile(TYPE_PATTERN[1:-1])
_N = TYPE_PATTERN[1:-1]
_PATH_RE = re.compile(f"{_N}(?:\\.{_N})*")
# Whole-value patterns: one regex call accepts a well-formed list; per-item checks only explain errors.
_PATHS_RE = re.compile(f"{_N}(?:\\.{_N})*(?:,{_N}(?:\\.{_N})*)*")
_SORT_RE = re.compile(f"-?{_N}(?:\\.{_N})*(?:,-?{_N}(?:\\.{_N})*)*")
_NAMES_RE = re.compile(f"{_N}(?:,{_N})*")
_LOWER_RE = re.compile(r"[a-z]+")
_INT_RE = re.compile(r"[0-9]{1,18}")
_PAGE_MEMBERS = ("number", "size", "offset", "limit", "cursor")
_SINGLE = frozenset({"include", "sort", "fields", "page"})
# A parameter name echoed as it is: printable ASCII without space, quotes, markup, "%" or backslash.
_SHOWN_AS_IS = re.compile(r"[!#$()*+,\-./0-9:;=?@A-Z\[\]^_a-z{|}~]{1,64}")
_SHOWN_SAFE = "!#$()*+,-./:;=?@[]^_{|}~"
_SHOWN_MAX = 64

#: What ``parse_query`` accepts: a mapping (values a string or a list of strings), pairs, or a string.
QueryInput = Mapping[str, Any] | Iterable[tuple[str, str]] | str


class SortField(NamedTuple):
    """One ``sort`` entry: ``field`` (a dotted path is allowed) and whether it is ``descending``."""

    field: str
    descending: bool = False


class FilterParam(NamedTuple):
    """One ``filter`` parameter: its bracket ``path`` and ``value``.

    ``filter[published]=true`` has path ``("published",)``; ``filter[author][name]=x`` has
    ``("author", "name")``; ``filter[author.name]=x`` has ``("author.name",)``; a bare ``filter=expr``
    has ``()``. ``name`` joins the path with dots; allow-lists match on it.
    """

    path: tuple[str, ...]
    value: str

    @property
    def name(self) -> str:
        """The path joined with dots (``"author.name"``); ``""`` for a bare ``filter``."""
        return ".".join(self.path)


class Page(NamedTuple):
    """Pagination asked for.

    ``number`` (1-based) with ``size``, or ``offset`` (0-based) with ``limit``, or an opaque ``cursor``
    (with ``size``). ``size`` is always the effective page size: ``page[size]``, else ``page[limit]``,
    else the default. ``start`` is the 0-based index of the first item (0 for cursor pagination).
    """

    size: int
    number: int | None = None
    offset: int | None = None
    limit: int | None = None
    cursor: str | None = None

    @property
    def start(self) -> int:
        """0-based index of the page's first item."""
        if self.offset is not None:
            return self.offset
        if self.number is not None:
            return (self.number - 1) * self.size
        return 0


@dataclass(frozen=True)
class QueryParams:
    """The parsed JSON:API query.

    - ``include``: relationship paths to include (``("author", "comments.author")``); ``None`` when the
      request had no ``include`` parameter, ``()`` when it was present and empty. A response to a
      request with ``include`` carries a top-level ``included`` member, even an empty one.
    - ``sort``: ``SortField`` entries in priority order (``-created`` gives ``descending=True``).
    - ``fields``: sparse fieldsets, resource type to the field names asked for (possibly empty).
    - ``filters``: every ``filter`` parameter as a ``FilterParam``, in request order.
    - ``page``: a ``Page`` (always present; its ``size`` falls back to the default page size).
    - ``extra``: implementation-specific parameters (such as ``apiKey``), name to values.
    """

    include: tuple[str, ...] | None = None
    sort: tuple[SortField, ...] = ()
    fields: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    filters: tuple[FilterParam, ...] = ()
    page: Page = field(default_factory=lambda: Page(size=20))
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def include_requested(self) -> bool:
        """Whether the request had an ``include`` parameter (so ``included`` must be written)."""
        return self.include is not None

    @property
    def sparse(self) -> bool:
        """Whether sparse fieldsets were asked for (which relaxes full linkage of the response)."""
        return bool(self.fields)

    def filter_value(self, name: str) -> str | None:
        """The value of the first filter whose dotted ``name`` matches, or None."""
        for f in self.filters:
            if f.name == name:
                return f.value
        return None


def _pairs(params: QueryInput) -> list[Any]:
    if type(params) is list:
        return params
    if isinstance(params, str):
        return parse_qsl(params.lstrip("?"), keep_blank_values=True)
    # Multi-value mappings of the frameworks: Starlette, Django, Werkzeug (their items() drop repeats).
    multi_items = getattr(params, "multi_items", None)
    if callable(multi_items):
        return list(multi_items())
    lists = getattr(params, "lists", None)
    if callable(lists):
        return [(k, v) for k, values in lists() for v in values]
    if isinstance(params, Mapping) and callable(getattr(params, "getlist", None)):
        return list(params.items(multi=True))  # type: ignore[call-arg]
    if isinstance(params, Mapping):
        out: list[tuple[Any, Any]] = []
        for key, value in params.items():
            if isinstance(value, (list, tuple)):
                out.extend((key, v) for v in value)
            else:
                out.append((key, value))
        return out
    return list(params)


def _shown(name: str) -> str:
    """A parameter name fit to echo: percent-encoded where not plain, at most 64 characters + "..."."""
    if _SHOWN_AS_IS.fullmatch(name) is not None:
        return name
    shown = quote(name[:_SHOWN_MAX], safe=_SHOWN_SAFE, errors="backslashreplace")
    if len(shown) > _SHOWN_MAX:
        shown = shown[:_SHOWN_MAX]
        cut = shown.rfind("%", _SHOWN_MAX - 2)  # never leave half an escape
        return (shown if cut < 0 else shown[:cut]) + "..."
    return shown + "..." if len(name) > _SHOWN_MAX else shown


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


class _Errors:
    """The problems found so far: the first ``MAX_ERRORS`` as error objects, and a count."""

    __slots__ = ("found", "items")

    def __init__(self) -> None:
        self.items: list[ErrorObject] = []
        self.found = 0

    def add(self, parameter: str, detail: str) -> None:
        self.found += 1
        if len(self.items) < MAX_ERRORS:
            self.items.append(_error(parameter, detail))

    def too_many(self, parameter: str, what: str, limit: int) -> None:
        self.add(parameter, f"at most {limit} {what} may be given")

    def all(self) -> list[ErrorObject]:
        """The error objects; the last one says that more were found when there were."""
        if self.found > len(self.items):
            return [*self.items[:-1], _error("", MORE_ERRORS)]
        return self.items


def _error(parameter: str, detail: str) -> ErrorObject:
    return ErrorObject(
        status="400",
        code="invalid_query_parameter",
        title="Invalid query parameter",
        detail=detail,
        source=ErrorSource(parameter=_shown(parameter)),
    )


def _split(value: str, parameter: str, errors: _Errors, what: str) -> list[str] | None:
    if value == "":
        return []
    items = value.split(",")
    for item in items:
        if item == "":
            errors.add(parameter, f"{what} must be a comma-separated list without empty entries")
            return None
    return items


def _path_ok(path: str) -> bool:
    return _PATH_RE.fullmatch(path) is not None


def _int(value: str, parameter: str, errors: _Errors, minimum: int) -> int | None:
    if _INT_RE.fullmatch(value) is None:
        errors.add(parameter, "must be a non-negative integer")
        return None
    number = int(value)
    if number < minimum:
        errors.add(parameter, f"must be at least {minimum}")
        return None
    return number


def parse_query(
    params: QueryInput,
    *,
    allowed_include: Collection[str] | None = None,
    allowed_sort: Collection[str] | None = None,
    allowed_fields: Mapping[str, Collection[str]] | None = None,
    allowed_filters: Collection[str] | None = None,
    max_page_size: int = 100,
    default_page_size: int = 20,
    max_include_depth: int = 3,
    max_items: int = MAX_QUERY_ITEMS,
) -> QueryParams:
    """Parse JSON:API query parameters; raise ``InvalidQueryError`` (400) on anything not accepted.

    ``params`` is a mapping (values a string or a list of strings), a list of ``(key, value)`` pairs
    (repeated keys allowed) or the query string itself. Each ``allowed_*`` is ``None`` for "any
    well-formed value" or a collection; an empty collection means the parameter is not supported.
    An include path is allowed when it is, segment-wise, a prefix of an allowed path; its depth may
    not exceed ``max_include_depth``. ``allowed_fields`` maps a resource type to its field names;
    ``allowed_filters`` holds dotted filter names (``"author.name"``; ``""`` allows a bare ``filter``).
    A ``page[size]``/``page[limit]`` above ``max_page_size`` is refused, not clamped. Parameters named
    like ``apiKey`` (a legal member name with a character outside a-z) are passed through in
    ``extra``; other unknown names and repeated ``include``/``sort``/``fields``/``page`` are refused.

    ``max_items`` (default ``MAX_QUERY_ITEMS``) caps the include paths, the sort fields, the names of
    one ``fields[TYPE]`` and the number of ``filter`` parameters; more is a 400 naming the parameter.
    At most ``MAX_ERRORS`` error objects are reported. Details never echo a value: an entry is named
    by its position (``"the 2nd include path ..."``), a parameter by ``source.parameter``.
    """
    errors = _Errors()
    include: tuple[str, ...] | None = None
    sort: tuple[SortField, ...] = ()
    fields: dict[str, tuple[str, ...]] = {}
    filters: list[FilterParam] = []
    page_raw: dict[str, tuple[str, str]] = {}
    extra: dict[str, list[str]] = {}
    seen: set[str] = set()
    too_many_filters = False

    try:
        pairs = _pairs(params)
    except (TypeError, ValueError):
        errors.add("", "the query parameters could not be read")
        pairs = []
    for pair in pairs:
        try:
            key, value = pair
        except (TypeError, ValueError):
            errors.add("", "the query parameters could not be read")
            continue
        if not isinstance(key, str) or not isinstance(value, str):
            errors.add(key if isinstance(key, str) else "", "must be a string")
            continue
        # "base[a][b]" -> base, ["a", "b"]; plain string operations beat a regex on this hot path.
        bracket = key.find("[")
        if bracket < 0:
            base = key
            brackets: list[str] = []
            if "]" in key:
                errors.add(key, "is not a well-formed query parameter name")
                continue
        else:
            base = key[:bracket]
            inner = key[bracket + 1 : -1]
            brackets = inner.split("][")
            if (
                bracket == 0
                or key[-1] != "]"
                or "]" in base
                or (("[" in inner or "]" in inner) and any("[" in b or "]" in b for b in brackets))
            ):
                errors.add(key, "is not a well-formed query parameter name")
                continue
        if key in seen and base in _SINGLE:
            errors.add(key, "must not be repeated")
            continue
        seen.add(key)
        if base == "include":
            if brackets:
                errors.add(key, "is not a JSON:API parameter")
            elif allowed_include is not None and not allowed_include:
                errors.add(key, "inclusion of related resources is not supported here")
            elif value.count(",") >= max_items:
                errors.too_many(key, "include paths", max_items)
            else:
                include = _include(value, key, errors, allowed_include, max_include_depth)
        elif base == "sort":
            if brackets:
                errors.add(key, "is not a JSON:API parameter")
            elif allowed_sort is not None and not allowed_sort:
                errors.add(key, "sorting is not supported here")
            elif value.count(",") >= max_items:
                errors.too_many(key, "sort fields", max_items)
            else:
                sort = _sort(value, key, errors, allowed_sort)
        elif base == "fields":
            if len(brackets) != 1 or _NAME_RE.fullmatch(brackets[0]) is None:
                errors.add(key, "must be written fields[TYPE] with a resource type")
            elif allowed_fields is not None and not allowed_fields:
                errors.add(key, "sparse fieldsets are not supported here")
            elif value.count(",") >= max_items:
                errors.too_many(key, "fields per type", max_items)
            else:
                names = _fields(value, key, brackets[0], errors, allowed_fields)
                if names is not None:
                    fields[brackets[0]] = names
        elif base == "filter":
            path = tuple(brackets)
            name = ".".join(path)
            if len(filters) >= max_items:
                if not too_many_filters:
                    too_many_filters = True
                    errors.too_many(key, "filter parameters", max_items)
            elif not all(_PATH_RE.fullmatch(seg) for seg in path):
                errors.add(key, "filter names must be member names")
            elif allowed_filters is not None and name not in allowed_filters:
                errors.add(key, "filtering on this is not supported here")
            else:
                filters.append(FilterParam(path, value))
        elif base == "page":
            if len(brackets) != 1 or brackets[0] not in _PAGE_MEMBERS:
                errors.add(key, "must be one of page[number], [size], [offset], [limit], [cursor]")
            else:
                page_raw[brackets[0]] = (key, value)
        elif _LOWER_RE.fullmatch(base) is not None:
            errors.add(key, "is not a JSON:API query parameter")
        elif _NAME_RE.fullmatch(base) is None or any(
            _NAME_RE.fullmatch(b) is None for b in brackets
        ):
            errors.add(key, "is not a legal query parameter name")
        else:
            extra.setdefault(key, []).append(value)

    page = _page(page_raw, errors, max_page_size, default_page_size)
    if errors.items:
        first = errors.items[0]
        raise InvalidQueryError(f"invalid query parameter: {first.detail}", errors=errors.all())
    return QueryParams(
        include=include,
        sort=sort,
        fields=MappingProxyType(fields),
        filters=tuple(filters),
        page=page,
        extra=MappingProxyType({k: tuple(v) for k, v in extra.items()}),
    )


def _include(
    value: str,
    key: str,
    errors: _Errors,
    allowed: Collection[str] | None,
    max_depth: int,
) -> tuple[str, ...] | None:
    if _PATHS_RE.fullmatch(value) is not None:
        items: list[str] | None = value.split(",")
        well_formed = True
    else:
        items = _split(value, key, errors, "include")
        well_formed = False
    if items is None:
        return None
    allowed_prefixes: set[str] | None = None
    if allowed is not None:
        allowed_prefixes = set()
        for path in allowed:
            segs = path.split(".")
            for i in range(1, len(segs) + 1):
                allowed_prefixes.add(".".join(segs[:i]))
    out: dict[str, None] = {}  # insertion-ordered and de-duplicated, in linear time
    for position, path in enumerate(items, 1):
        if not well_formed and not _path_ok(path):
            errors.add(key, "each include path must be dot-separated relationship names")
        elif path.count(".") + 1 > max_depth:
            errors.add(key, f"include paths may be at most {max_depth} relationships deep")
        elif allowed_prefixes is not None and path not in allowed_prefixes:
            errors.add(key, f"the {_ordinal(position)} include path is not supported here")
        else:
            out[path] = None
    return tuple(out)


def _sort(
    value: str, key: str, errors: _Errors, allowed: Collection[str] | None
) -> tuple[SortField, ...]:
    well_formed = _SORT_RE.fullmatch(value) is not None
    items = value.split(",") if well_formed else _split(value, key, errors, "sort")
    if not items:
        if items == []:
            errors.add(key, "sort must name at least one field")
        return ()
    out: list[SortField] = []
    for position, item in enumerate(items, 1):
        descending = item.startswith("-")
        name = item[1:] if descending else item
        if not well_formed and not _path_ok(name):
            errors.add(key, "each sort field must be a field name, optionally prefixed with '-'")
        elif allowed is not None and name not in allowed:
            errors.add(key, f"sorting by the {_ordinal(position)} sort field is not supported here")
        else:
            out.append(SortField(name, descending))
    return tuple(out)


def _fields(
    value: str,
    key: str,
    type_name: str,
    errors: _Errors,
    allowed: Mapping[str, Collection[str]] | None,
) -> tuple[str, ...] | None:
    well_formed = _NAMES_RE.fullmatch(value) is not None
    items = value.split(",") if well_formed else _split(value, key, errors, "fields")
    if items is None:
        return None
    known: Collection[str] | None = None
    if allowed is not None:
        if type_name not in allowed:
            errors.add(key, "this resource type is not served here")
            return None
        known = allowed[type_name]
    for position, name in enumerate(items, 1):
        if not well_formed and _NAME_RE.fullmatch(name) is None:
            errors.add(key, "each field must be a member name")
            return None
        if known is not None and name not in known:
            errors.add(key, f"the {_ordinal(position)} field is not a field of this resource type")
            return None
    return tuple(dict.fromkeys(items))


def _page(
    raw: dict[str, tuple[str, str]], errors: _Errors, max_size: int, default_size: int
) -> Page:
    if not raw:
        return Page(size=default_size)
    if "cursor" in raw and ("number" in raw or "offset" in raw):
        errors.add(
            raw["cursor"][0], "page[cursor] cannot be combined with page[number]/page[offset]"
        )
    if ("number" in raw or "size" in raw) and ("offset" in raw or "limit" in raw):
        key = raw.get("offset", raw.get("limit", ("page", "")))[0]
        errors.add(key, "page[number]/page[size] cannot be combined with page[offset]/page[limit]")
    values: dict[str, int | None] = {}
    for member, minimum in (("number", 1), ("size", 1), ("offset", 0), ("limit", 1)):
        if member in raw:
            key, value = raw[member]
            number = _int(value, key, errors, minimum)
            if number is not None and member in ("size", "limit") and number > max_size:
                errors.add(key, f"the page size may be at most {max_size}")
                number = None
            values[member] = number
        else:
            values[member] = None
    cursor = raw["cursor"][1] if "cursor" in raw else None
    if cursor == "":
        errors.add(raw["cursor"][0], "page[cursor] must not be empty")
    size = values["size"] or values["limit"] or default_size
    return Page(
        size=size,
        number=values["number"],
        offset=values["offset"],
        limit=values["limit"],
        cursor=cursor,
    )
