"""Limits on hostile input, and the check of free-form values (attributes, meta, extension members).

``MAX_DEPTH`` bounds how deeply a document may nest objects and arrays, whatever reads it
(``model_validate`` of Python objects or ``model_validate_json`` of text); ``MAX_QUERY_ITEMS`` bounds the
list-valued query parameters. ``value_problem`` walks one free-form value without recursion, each
container once, and reports nesting past the limit, a cycle, a number JSON cannot write, or text
UTF-8 cannot write.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from itertools import chain, compress
from typing import Any

__all__ = [
    "CYCLE",
    "MAX_DEPTH",
    "MAX_ERRORS",
    "MAX_QUERY_ITEMS",
    "MORE_ERRORS",
    "NOT_FINITE",
    "TOO_DEEP",
    "UNENCODABLE",
    "is_flat",
    "members_fit",
    "plain_members",
    "value_problem",
]

#: How many levels of objects and arrays a document may nest: the top-level object is level 1, and
#: every object or array inside another adds one (a link object's ``describedby`` link object too).
MAX_DEPTH = 64

#: How many include paths, sort fields, field names of one ``fields[TYPE]`` and ``filter`` parameters
#: ``parse_query`` accepts by default (its ``max_items``).
MAX_QUERY_ITEMS = 100

#: The most error objects an ``InvalidDocumentError`` or ``InvalidQueryError`` carries: a small hostile
#: input can break thousands of rules, and the answer should stay small. When there were more, the
#: last object says so (``MORE_ERRORS``).
MAX_ERRORS = 100
MORE_ERRORS = f"more problems were found than are listed (at most {MAX_ERRORS} error objects)"

#: The details of the problems ``value_problem`` reports (error objects point at the member).
TOO_DEEP = f"is nested deeper than {MAX_DEPTH} levels"
CYCLE = "contains itself (a cyclic reference), which JSON cannot write"
NOT_FINITE = (
    "must be a finite number (NaN, Infinity and numbers beyond the range of a double are not JSON)"
)
# JSON text (``"\ud800"``) and Python objects can carry a lone surrogate; the JSON entry point refuses
# it while parsing, and this one must too: no response holding it can be written as UTF-8.
UNENCODABLE = "holds text that is not valid Unicode (a lone surrogate), which UTF-8 cannot write"

# Values that are JSON scalars JSON can always write (bool is listed: type(True) is not int).
_FLAT = frozenset({str, int, bool, type(None)})
# What pydantic writes as a JSON object or array.
_CONTAINERS = (dict, list, tuple, set, frozenset)
# What JSON text parses into; plain_members judges exactly these types at C speed.
_SCALARS = _FLAT | {float}
_JSON_TYPES = _SCALARS | {list, dict}
_is_float = frozenset({float}).__contains__
_is_list = frozenset({list}).__contains__
_is_dict = frozenset({dict}).__contains__
_is_str = frozenset({str}).__contains__
# plain_members gives up (and the exact walk decides) past this many values: only objects shared
# between members (Python input) can make the level-by-level count grow faster than the input.
_PLAIN_BUDGET = 1_000_000


def _utf8(strings: Iterable[Any]) -> bool:
    """Whether ``strings`` are all strings UTF-8 can write (one C-speed join and encode)."""
    try:
        "".join(strings).encode()
    except (UnicodeEncodeError, TypeError):
        return False
    return True


def is_flat(values: Any) -> bool:
    """Whether every item of ``values`` (a collection, read twice) is a string UTF-8 can write, an
    integer, a boolean or None (C-speed check)."""
    kinds = set(map(type, values))
    if not _FLAT.issuperset(kinds):
        return False
    return str not in kinds or _utf8(v for v in values if type(v) is str)


def _text_problem(node: Any) -> Any:
    """The key in ``node`` (an object or array) of the first name or string item UTF-8 cannot
    write, or None (the usual answer costs one C-speed check)."""
    if isinstance(node, dict):
        keys = [k for k in node if isinstance(k, str)]
        texts = [v for v in node.values() if isinstance(v, str)]
        if _utf8(keys) and _utf8(texts):
            return None
        for key, item in node.items():
            if (isinstance(key, str) and not _utf8((key,))) or (
                isinstance(item, str) and not _utf8((item,))
            ):
                return key
        return None  # pragma: no cover - the batch found one
    if _utf8(v for v in node if isinstance(v, str)):
        return None
    for index, item in enumerate(node):
        if isinstance(item, str) and not _utf8((item,)):
            return index
    return None  # pragma: no cover - the batch found one


def _children(node: Any) -> Iterator[tuple[Any, Any]]:
    if isinstance(node, dict):
        return iter(node.items())
    return enumerate(node)


def value_problem(value: Any, room: int) -> tuple[list[Any], str] | None:
    """The first problem of a free-form ``value``, as ``(path below value, detail)``, or None.

    ``room`` is how many levels of objects and arrays ``value`` may still nest (``value`` itself, when
    it is one, takes the first). Problems: nesting past the room (``TOO_DEEP``), a container that
    contains itself (``CYCLE``), a float that is NaN or infinite (``NOT_FINITE``), a string or a
    member name UTF-8 cannot write (``UNENCODABLE``, a lone surrogate). The walk is
    iterative and visits each container once (a value shared by several members is not walked
    again), so time and memory are linear in the number of distinct containers and the Python stack
    does not grow.
    """
    if not isinstance(value, _CONTAINERS):
        if isinstance(value, float) and not math.isfinite(value):
            return [], NOT_FINITE
        if isinstance(value, str) and not _utf8((value,)):
            return [], UNENCODABLE
        return None
    if room < 1:
        return [], TOO_DEEP
    bad = _text_problem(value)
    if bad is not None:
        return [bad], UNENCODABLE
    flat = _FLAT
    containers = _CONTAINERS
    heights: dict[int, int] = {}  # id -> height of a container walked completely
    on_path = {id(value)}
    path: list[Any] = []
    # Frames: [container, iterator over its (key, child) pairs, its height found so far].
    frames: list[list[Any]] = [[value, _children(value), 1]]
    while frames:
        frame = frames[-1]
        level = len(frames)
        for key, child in frame[1]:
            if type(child) in flat:
                continue
            if isinstance(child, containers):
                cid = id(child)
                height = heights.get(cid)
                if height is None:
                    if cid in on_path:
                        return [*path, key], CYCLE
                    if level >= room:
                        return [*path, key], TOO_DEEP
                    bad = _text_problem(child)
                    if bad is not None:
                        return [*path, key, bad], UNENCODABLE
                    items = child.values() if isinstance(child, dict) else child
                    if flat.issuperset(map(type, items)):
                        height = 1
                    else:
                        on_path.add(cid)
                        path.append(key)
                        frames.append([child, _children(child), 1])
                        break
                elif level + height > room:
                    return [*path, key], TOO_DEEP
                if height >= frame[2]:
                    frame[2] = height + 1
            elif isinstance(child, float) and not math.isfinite(child):
                return [*path, key], NOT_FINITE
        else:
            frames.pop()
            node = frame[0]
            on_path.discard(id(node))
            heights[id(node)] = frame[2]
            if frames:
                path.pop()
                parent = frames[-1]
                if frame[2] >= parent[2]:
                    parent[2] = frame[2] + 1
    return None


def plain_members(objects: Iterable[dict[Any, Any]], room: int) -> bool:
    """Whether the values of all ``objects`` certainly fit ``room`` levels and hold no NaN/infinity.

    The fast check for whole collections of attributes and meta objects: it goes level by level
    with C-speed built-ins over plain JSON types (str, int, float, bool, None, list, dict). False
    means "look closer" (with ``value_problem``), not necessarily that something is wrong: it also
    answers False for other types, for values shared so often that the count explodes, and for
    text UTF-8 cannot write (the objects' own names are checked by their models).
    """
    values = list(chain.from_iterable(map(dict.values, objects)))
    budget = _PLAIN_BUDGET
    for depth in range(1, room + 2):
        types = list(map(type, values))
        kinds = set(types)
        if float in kinds and not all(map(math.isfinite, compress(values, map(_is_float, types)))):
            return False
        if str in kinds and not _utf8(compress(values, map(_is_str, types))):
            return False
        if dict in kinds and not _utf8(chain.from_iterable(compress(values, map(_is_dict, types)))):
            return False
        if kinds <= _SCALARS:
            return True
        if depth > room or not kinds <= _JSON_TYPES:
            return False
        values = list(
            chain(
                chain.from_iterable(compress(values, map(_is_list, types))),
                chain.from_iterable(map(dict.values, compress(values, map(_is_dict, types)))),
            )
        )
        budget -= len(values)
        if budget < 0:
            return False
    return False  # pragma: no cover - the loop returns at depth room + 1


def members_fit(members: dict[Any, Any], room: int) -> bool:
    """Whether every value of ``members`` has no ``value_problem`` within ``room`` levels.

    The fast check for plain values: strings, numbers and flat lists or objects cost a type lookup.
    """
    for value in members.values():
        kind = type(value)
        if kind in _FLAT:
            if kind is not str or _utf8((value,)):
                continue
            return False
        if room >= 1:
            if kind is list:
                if is_flat(value):
                    continue
            elif kind is dict:
                if is_flat(value.values()) and _utf8(value):
                    continue
            elif kind is float and math.isfinite(value):
                continue
        if value_problem(value, room) is not None:
            return False
    return True
