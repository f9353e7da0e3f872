"""docs/architecture.md, rule 3: ``midil_sync`` and ``midil_async`` mirror each other exactly.

Every public module of one shell has a twin in the other (the framework adapters excepted, which
belong to one side), and each pair exposes the same public names, kinds, method names, parameters
(names, kinds, defaults) and declared annotations. The only differences allowed are the protocol
pairs (``close``/``aclose``, ``__enter__``/``__aenter__``, ``iter_bytes``/``aiter_bytes``, ...),
listed once: in the ``RENAMES`` table of ``scripts/unasync.py``, which also writes the generated
sync modules. An async annotation is compared after those renames (``AsyncIterator[bytes]`` is the
twin of ``Iterator[bytes]``).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil
import re
import sys
import types
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any, Self

import pytest

import midil_async
import midil_sync

ROOT = Path(__file__).resolve().parents[1]

ADAPTERS = ("midil_sync.flask", "midil_sync.django", "midil_async.fastapi")
"""One-sided framework adapters (rule 3): these packages and their submodules have no twin."""


def _load_renames() -> dict[str, str]:
    """``RENAMES`` of ``scripts/unasync.py`` (async name -> sync name); ``scripts`` is no package."""
    spec = importlib.util.spec_from_file_location(
        "_unasync_for_parity", ROOT / "scripts/unasync.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.RENAMES)


RENAMES = _load_renames()
"""Async name -> sync name: the protocol pairs and the names that change with them."""
TO_ASYNC = {sync: async_ for async_, sync in RENAMES.items()}
PUBLIC_DUNDERS = {
    name for name in (*RENAMES, *TO_ASYNC) if name.startswith("__") and name.endswith("__")
} | {"__init__", "__call__", "__len__", "__contains__"}
_ASYNC_WORDS = re.compile(
    r"\b(" + "|".join(map(re.escape, sorted(RENAMES, key=len)[::-1])) + r")\b"
)


# ---------------------------------------------------------------------------------- the walk


def _excluded(name: str, exclude: tuple[str, ...]) -> bool:
    private = any(part.startswith("_") for part in name.split("."))
    return private or any(name == a or name.startswith(a + ".") for a in exclude)


def _raise(name: str) -> None:
    raise ImportError(f"cannot import {name} while walking the package")


def public_modules(
    package: types.ModuleType, exclude: tuple[str, ...] = ADAPTERS
) -> dict[str, types.ModuleType]:
    """Every public module of ``package``, keyed by its name relative to the package ("" for the
    package itself). A module is private when a component of its name starts with ``_``.

    The package's own children are listed first so that an excluded adapter package is never
    imported (``walk_packages`` imports each package it descends into, and an adapter imports its
    framework); below each public child, ``pkgutil.walk_packages`` finds the rest.
    """
    prefix = package.__name__ + "."
    found = {"": package}
    for child in pkgutil.iter_modules(package.__path__, prefix):
        if _excluded(child.name, exclude):
            continue
        found[child.name.removeprefix(prefix)] = importlib.import_module(child.name)
        if not child.ispkg:
            continue
        below = found[child.name.removeprefix(prefix)].__path__
        for info in pkgutil.walk_packages(below, child.name + ".", onerror=_raise):
            if not _excluded(info.name, exclude):
                found[info.name.removeprefix(prefix)] = importlib.import_module(info.name)
    return found


# ----------------------------------------------------------------------------- the comparison


def _public_members(cls: type) -> dict[str, Any]:
    members: dict[str, Any] = {}
    for name in dir(cls):
        if name.startswith("_") and name not in PUBLIC_DUNDERS:
            continue
        if name in PUBLIC_DUNDERS and getattr(cls, name, None) is getattr(object, name, None):
            continue
        members[name] = inspect.getattr_static(cls, name)
    return members


def _async_name(name: str) -> str:
    return TO_ASYNC.get(name, name)


def _annotation(value: Any, *, from_async: bool) -> str:
    """An annotation as comparable text: async names mapped to their sync twins, no spaces."""
    if value is inspect.Parameter.empty:
        return "(none)"
    text = value if isinstance(value, str) else inspect.formatannotation(value)
    if from_async:
        text = _ASYNC_WORDS.sub(lambda m: RENAMES[m.group(1)], text)
    return "".join(text.split())


def _signature_of(obj: Any) -> inspect.Signature | None:
    target = obj
    if isinstance(obj, (staticmethod, classmethod)):
        target = obj.__func__
    if isinstance(obj, property):
        target = obj.fget
        if target is None:
            return None
    if not callable(target):
        return None
    try:
        return inspect.signature(target)
    except (TypeError, ValueError):
        return None


def _compare_signatures(where: str, a: Any, b: Any) -> list[str]:
    sa, sb = _signature_of(a), _signature_of(b)
    if (sa is None) != (sb is None):
        return [f"{where}: callable on one side only"]
    if sa is None or sb is None:
        return []
    problems = []
    pa = [(p.name, p.kind, p.default) for p in sa.parameters.values()]
    pb = [(p.name, p.kind, p.default) for p in sb.parameters.values()]
    if [p[:2] for p in pa] != [p[:2] for p in pb]:
        problems.append(f"{where}: parameters differ: {pa} != {pb}")
    else:
        for (name, _, da), (_, _, db) in zip(pa, pb, strict=True):
            if not _same_default(da, db):
                problems.append(f"{where}: default of {name!r} differs: {da!r} != {db!r}")
        for ps, pas in zip(sa.parameters.values(), sb.parameters.values(), strict=True):
            ta = _annotation(ps.annotation, from_async=False)
            tb = _annotation(pas.annotation, from_async=True)
            if ta != tb:
                problems.append(f"{where}: annotation of {ps.name!r} differs: {ta} != {tb}")
    ra = _annotation(sa.return_annotation, from_async=False)
    rb = _annotation(sb.return_annotation, from_async=True)
    if ra != rb:
        problems.append(f"{where}: return annotation differs: {ra} != {rb}")
    return problems


def _compare_callables(where: str, sync_obj: Any, async_obj: Any) -> list[str]:
    problems = _compare_signatures(where, sync_obj, async_obj)
    fs = getattr(sync_obj, "__func__", sync_obj)
    fa = getattr(async_obj, "__func__", async_obj)
    if inspect.iscoroutinefunction(fs) or inspect.isasyncgenfunction(fs):
        problems.append(f"{where}: coroutine in the sync shell")
    if inspect.iscoroutinefunction(fa) and not inspect.isfunction(fs):
        problems.append(f"{where}: coroutine without a sync twin")
    return problems


def _same_default(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:
        return False


def _kind(obj: Any) -> str:
    if isinstance(obj, property):
        return "property"
    if isinstance(obj, classmethod):
        return "classmethod"
    if isinstance(obj, staticmethod):
        return "staticmethod"
    if inspect.isclass(obj):
        return "class"
    if isinstance(obj, types.ModuleType):
        return "module"
    if callable(obj):
        return "callable"
    return "value"


def _compare_classes(name: str, cls_s: type, cls_a: type, async_mod: str) -> list[str]:
    problems: list[str] = []
    bases_s = [b.__name__ for b in cls_s.__bases__]
    bases_a = [RENAMES.get(b.__name__, b.__name__) for b in cls_a.__bases__]
    if bases_s != bases_a:
        problems.append(f"{name}: bases differ: {bases_s} != {bases_a}")
    fields_s = {
        k: _annotation(v, from_async=False)
        for k, v in inspect.get_annotations(cls_s).items()
        if not k.startswith("_")
    }
    fields_a = {
        RENAMES.get(k, k): _annotation(v, from_async=True)
        for k, v in inspect.get_annotations(cls_a).items()
        if not k.startswith("_")
    }
    for field in sorted(fields_s.keys() | fields_a.keys()):
        if fields_s.get(field) != fields_a.get(field):
            problems.append(
                f"{name}.{field}: declared attribute differs: "
                f"{fields_s.get(field, '(absent)')} != {fields_a.get(field, '(absent)')}"
            )
    ms, ma = _public_members(cls_s), _public_members(cls_a)
    expected_a = {_async_name(m) for m in ms}
    for m in sorted(ms):
        if _async_name(m) not in ma:
            problems.append(f"{name}.{m}: missing in {async_mod}")
    for m in sorted(set(ma) - expected_a):
        problems.append(f"{name}.{RENAMES.get(m, m)}: only in {async_mod}")
    for m, member_s in ms.items():
        member_a = ma.get(_async_name(m))
        if member_a is None:
            continue
        where = f"{name}.{m}"
        if _kind(member_s) != _kind(member_a):
            problems.append(f"{where}: {_kind(member_s)} != {_kind(member_a)}")
            continue
        problems += _compare_callables(where, member_s, member_a)
    return problems


def parity_problems(sync_mod: types.ModuleType, async_mod: types.ModuleType) -> list[str]:
    """Every difference between two twin modules' public surfaces that rule 3 does not allow."""
    problems: list[str] = []
    for mod in (sync_mod, async_mod):
        if not isinstance(getattr(mod, "__all__", None), list | tuple):
            problems.append(f"{mod.__name__} declares no __all__")
        for name in getattr(mod, "__all__", ()):
            if not hasattr(mod, name):
                problems.append(f"{mod.__name__}.{name} is in __all__ but missing")
    names_s = {n for n in getattr(sync_mod, "__all__", ()) if hasattr(sync_mod, n)}
    names_a = {n for n in getattr(async_mod, "__all__", ()) if hasattr(async_mod, n)}
    for name in sorted(names_s - names_a):
        problems.append(f"{name}: only in {sync_mod.__name__}")
    for name in sorted(names_a - names_s):
        problems.append(f"{name}: only in {async_mod.__name__}")
    for name in sorted(names_s & names_a):
        obj_s, obj_a = getattr(sync_mod, name), getattr(async_mod, name)
        if _kind(obj_s) != _kind(obj_a):
            problems.append(f"{name}: {_kind(obj_s)} != {_kind(obj_a)}")
        elif obj_s is obj_a:
            continue  # a shared core object re-exported by both shells
        elif inspect.isclass(obj_s):
            problems += _compare_classes(name, obj_s, obj_a, async_mod.__name__)
        elif _kind(obj_s) == "callable":
            problems += _compare_callables(name, obj_s, obj_a)
        elif _kind(obj_s) == "value" and not _same_default(obj_s, obj_a):
            problems.append(f"{name}: value differs: {obj_s!r} != {obj_a!r}")
    return problems


def package_problems(
    sync_modules: Mapping[str, types.ModuleType], async_modules: Mapping[str, types.ModuleType]
) -> list[str]:
    """The modules without a twin, then every module pair's :func:`parity_problems`."""
    problems = [
        f"{sync_modules[n].__name__}: module without an async twin"
        for n in sorted(sync_modules.keys() - async_modules.keys())
    ]
    problems += [
        f"{async_modules[n].__name__}: module without a sync twin"
        for n in sorted(async_modules.keys() - sync_modules.keys())
    ]
    for n in sorted(sync_modules.keys() & async_modules.keys()):
        sync_mod, async_mod = sync_modules[n], async_modules[n]
        problems += [f"{sync_mod.__name__}: {p}" for p in parity_problems(sync_mod, async_mod)]
    return problems


# --------------------------------------------------------------------------- the real shells


def test_every_public_module_of_the_shells_has_a_mirror_twin() -> None:
    assert package_problems(public_modules(midil_sync), public_modules(midil_async)) == []


def test_the_walk_reaches_the_shell_modules_and_skips_adapters_and_private_ones() -> None:
    for package in (midil_sync, midil_async):
        found = public_modules(package)
        names = {module.__name__ for module in found.values()}
        assert {"", "http", "http.client", "http.providers", "auth", "auth.authorizers"} <= set(
            found
        )
        assert not any(_excluded(name, ADAPTERS) for name in names), names


def test_the_protocol_pairs_of_rule_3_are_the_unasync_renames() -> None:
    """The pairs docs/architecture.md allows are the ones the generator swaps (one list)."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    rule = text[text.index("3. **The mirror is exact.**") : text.index("4. **")]
    pairs = re.findall(r"`(\w+)`/`(\w+)`", rule)
    assert len(pairs) >= 8
    for sync_name, async_name in pairs:
        assert RENAMES.get(async_name) == sync_name, (sync_name, async_name)


# ------------------------------------------------------------------ the checker itself, on fakes


def _fake(name: str, **members: Any) -> types.ModuleType:
    mod = types.ModuleType(name)
    for key, value in members.items():
        setattr(mod, key, value)
    mod.__all__ = list(members)
    return mod


class _SyncClient:
    timeout: float

    def __init__(self, url: str, *, timeout: float = 5.0) -> None: ...
    def get(self, path: str, *, retries: int = 3) -> bytes:
        return b""

    def iter_bytes(self) -> Iterator[bytes]:
        yield b""

    @property
    def url(self) -> str:
        return ""

    def close(self) -> None: ...
    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None: ...


class _AsyncClient:
    timeout: float

    def __init__(self, url: str, *, timeout: float = 5.0) -> None: ...
    async def get(self, path: str, *, retries: int = 3) -> bytes:
        return b""

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        yield b""

    @property
    def url(self) -> str:
        return ""

    async def aclose(self) -> None: ...
    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None: ...


class _AsyncDrifted:
    def __init__(self, url: str, *, timeout: float = 10.0) -> None: ...
    async def get(self, path: str, *, attempts: int = 3) -> bytes:
        return b""

    async def extra(self) -> None: ...


class _AsyncAnnotationDrift:
    timeout: int

    def __init__(self, url: bytes, *, timeout: float = 5.0) -> None: ...
    async def get(self, path: str, *, retries: int = 3) -> str:
        return ""

    async def aiter_bytes(self) -> AsyncIterator[str]:
        yield ""

    @property
    def url(self) -> bytes:
        return b""

    async def aclose(self) -> None: ...
    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> bool:
        return False


def _helper(a: int, b: int = 1) -> int:
    return a + b


def _helper_drifted(a: int, c: int = 1) -> int:
    return a + c


def _helper_retyped(a: str, b: int = 1) -> str:
    return a


async def _helper_async(a: int, b: int = 1) -> int:
    return a + b


def test_checker_accepts_an_exact_mirror() -> None:
    sync = _fake("fake_sync", Client=_SyncClient, helper=_helper, LIMIT=3)
    async_ = _fake("fake_async", Client=_AsyncClient, helper=_helper_async, LIMIT=3)
    assert parity_problems(sync, async_) == []


def test_checker_reports_every_kind_of_drift() -> None:
    sync = _fake("fake_sync", Client=_SyncClient, helper=_helper, only_sync=_helper, LIMIT=3)
    async_ = _fake("fake_async", Client=_AsyncDrifted, helper=_helper_drifted, LIMIT=4)
    problems = parity_problems(sync, async_)
    text = "\n".join(problems)
    assert "only_sync: only in fake_sync" in text
    assert "helper: parameters differ" in text
    assert "LIMIT: value differs: 3 != 4" in text
    assert "Client.__init__: default of 'timeout' differs" in text
    assert "Client.get: parameters differ" in text
    assert "Client.close: missing in fake_async" in text
    assert "Client.iter_bytes: missing in fake_async" in text
    assert "Client.extra: only in fake_async" in text
    assert "Client.__enter__: missing in fake_async" in text
    assert "Client.timeout: declared attribute differs: float != (absent)" in text


def test_checker_reports_annotation_drift() -> None:
    sync = _fake("fake_sync", Client=_SyncClient, helper=_helper)
    async_ = _fake("fake_async", Client=_AsyncAnnotationDrift, helper=_helper_retyped)
    problems = parity_problems(sync, async_)
    assert sorted(problems) == sorted(
        [
            "helper: annotation of 'a' differs: int != str",
            "helper: return annotation differs: int != str",
            "Client.timeout: declared attribute differs: float != int",
            "Client.__init__: annotation of 'url' differs: str != bytes",
            "Client.get: return annotation differs: bytes != str",
            "Client.iter_bytes: return annotation differs: Iterator[bytes] != Iterator[str]",
            "Client.url: return annotation differs: str != bytes",
            "Client.__exit__: return annotation differs: None != bool",
        ]
    )


def test_checker_maps_async_names_in_annotations() -> None:
    def sync_fn(x: midil_sync.HttpClient) -> Iterator[int]:
        yield 1

    async def async_fn(x: midil_async.HttpClient) -> AsyncIterator[int]:
        yield 1

    def async_fn_unmapped(x: midil_async.HttpClient) -> Iterator[int]:
        yield 1

    sync = _fake("fake_sync", fn=sync_fn)
    assert parity_problems(sync, _fake("fake_async", fn=async_fn)) == []
    wrong = parity_problems(
        _fake("fake_sync", fn=async_fn_unmapped), _fake("fake_async", fn=sync_fn)
    )
    assert wrong == [
        "fn: annotation of 'x' differs: midil_async.HttpClient != midil_sync.HttpClient"
    ]


class _SyncWithCoroutine(_SyncClient):
    async def get(self, path: str, *, retries: int = 3) -> bytes:  # type: ignore[override]
        return b""


def test_checker_reports_a_coroutine_in_the_sync_shell() -> None:
    sync = _fake("fake_sync", Client=_SyncWithCoroutine)
    async_ = _fake("fake_async", Client=_AsyncClient)
    assert any("coroutine in the sync shell" in p for p in parity_problems(sync, async_))


def test_checker_reports_a_module_without_all() -> None:
    bare = types.ModuleType("fake_sync")
    assert parity_problems(bare, _fake("fake_async")) == ["fake_sync declares no __all__"]


def test_checker_reports_a_name_in_all_that_is_missing() -> None:
    listed = _fake("fake_async", helper=_helper)
    listed.__all__ = ["helper", "gone"]
    assert parity_problems(_fake("fake_sync", helper=_helper), listed) == [
        "fake_async.gone is in __all__ but missing"
    ]


def test_checker_reports_a_module_present_on_one_side_only() -> None:
    sync = {"": _fake("fake_sync"), "http": _fake("fake_sync.http", helper=_helper)}
    async_ = {
        "": _fake("fake_async"),
        "http": _fake("fake_async.http", helper=_helper_drifted),
        "events": _fake("fake_async.events"),
    }
    problems = package_problems(sync, async_)
    assert problems[0] == "fake_async.events: module without a sync twin"
    assert problems[1].startswith("fake_sync.http: helper: parameters differ")
    assert len(problems) == 2
    swapped = package_problems(async_, sync)
    assert swapped[0] == "fake_async.events: module without an async twin"


def test_the_walk_lists_public_modules_without_importing_excluded_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "parity_fake_shell"
    files = {
        "__init__.py": "__all__ = []\n",
        "client.py": "__all__ = []\n",
        "_transport.py": "",
        "http/__init__.py": "",
        "http/providers.py": "",
        "http/_helpers.py": "",
        "_private/__init__.py": "",
        "_private/exposed.py": "",
        "webframework/__init__.py": "raise ImportError('an adapter must not be imported')\n",
        "webframework/views.py": "",
    }
    for relative, text in files.items():
        path = tmp_path / name / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        package = importlib.import_module(name)
        found = public_modules(package, exclude=(f"{name}.webframework",))
        assert sorted(found) == ["", "client", "http", "http.providers"]
        assert found["http.providers"].__name__ == f"{name}.http.providers"
        assert f"{name}.webframework" not in sys.modules
    finally:
        for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[module]
