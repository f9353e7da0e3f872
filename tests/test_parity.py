"""DESIGN.md rule 3: ``midil_sync`` and ``midil_async`` expose the same names, methods and parameters."""

from __future__ import annotations

import inspect
import types
from typing import Any

import midil_async
import midil_sync

# Protocol pairs that are allowed to differ by name between the two shells.
PAIRS = {
    "close": "aclose",
    "__enter__": "__aenter__",
    "__exit__": "__aexit__",
    "__iter__": "__aiter__",
    "__next__": "__anext__",
}
PUBLIC_DUNDERS = (
    set(PAIRS) | set(PAIRS.values()) | {"__init__", "__call__", "__len__", "__contains__"}
)


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
    return PAIRS.get(name, name)


def _signature_of(obj: Any) -> inspect.Signature | None:
    target = obj
    if isinstance(obj, (staticmethod, classmethod)):
        target = obj.__func__
    if isinstance(obj, property):
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
    if callable(obj):
        return "callable"
    return "value"


def parity_problems(sync_mod: types.ModuleType, async_mod: types.ModuleType) -> list[str]:
    """Every difference between the two modules' public surfaces that rule 3 does not allow."""
    problems: list[str] = []
    names_s = set(getattr(sync_mod, "__all__", ()))
    names_a = set(getattr(async_mod, "__all__", ()))
    for name in sorted(names_s - names_a):
        problems.append(f"{name}: only in {sync_mod.__name__}")
    for name in sorted(names_a - names_s):
        problems.append(f"{name}: only in {async_mod.__name__}")
    for name in sorted(names_s & names_a):
        obj_s, obj_a = getattr(sync_mod, name), getattr(async_mod, name)
        if _kind(obj_s) != _kind(obj_a):
            problems.append(f"{name}: {_kind(obj_s)} != {_kind(obj_a)}")
            continue
        if not inspect.isclass(obj_s):
            problems += _compare_signatures(name, obj_s, obj_a)
            continue
        if obj_s is obj_a:
            continue  # a shared core type re-exported by both shells
        ms, ma = _public_members(obj_s), _public_members(obj_a)
        expected_a = {_async_name(m) for m in ms}
        for m in sorted(ms):
            if _async_name(m) not in ma:
                problems.append(f"{name}.{m}: missing in {async_mod.__name__}")
        mirrored_back = {v: k for k, v in PAIRS.items()}
        for m in sorted(set(ma) - expected_a):
            problems.append(f"{name}.{mirrored_back.get(m, m)}: only in {async_mod.__name__}")
        for m, member_s in ms.items():
            member_a = ma.get(_async_name(m))
            if member_a is None:
                continue
            where = f"{name}.{m}"
            if _kind(member_s) != _kind(member_a):
                problems.append(f"{where}: {_kind(member_s)} != {_kind(member_a)}")
                continue
            if m in PAIRS and m != "close":
                continue  # protocol methods have fixed signatures of their own
            problems += _compare_signatures(where, member_s, member_a)
            fs = getattr(member_s, "__func__", member_s)
            fa = getattr(member_a, "__func__", member_a)
            if inspect.iscoroutinefunction(fs):
                problems.append(f"{where}: coroutine in the sync shell")
            if inspect.iscoroutinefunction(fa) and not inspect.isfunction(fs):
                problems.append(f"{where}: coroutine without a sync twin")
    return problems


def test_sync_and_async_packages_mirror_each_other() -> None:
    assert parity_problems(midil_sync, midil_async) == []


def test_both_packages_declare_all() -> None:
    for mod in (midil_sync, midil_async):
        assert isinstance(mod.__all__, list | tuple)
        for name in mod.__all__:
            assert hasattr(mod, name), f"{mod.__name__}.{name} is in __all__ but missing"


# ---------------------------------------------------------------- the checker itself, on fakes


def _fake(name: str, **members: Any) -> types.ModuleType:
    mod = types.ModuleType(name)
    for key, value in members.items():
        setattr(mod, key, value)
    mod.__all__ = list(members)
    return mod


class _SyncClient:
    def __init__(self, url: str, *, timeout: float = 5.0) -> None: ...
    def get(self, path: str, *, retries: int = 3) -> bytes:
        return b""

    def close(self) -> None: ...
    def __enter__(self) -> _SyncClient:
        return self

    def __exit__(self, *exc: object) -> None: ...


class _AsyncClient:
    def __init__(self, url: str, *, timeout: float = 5.0) -> None: ...
    async def get(self, path: str, *, retries: int = 3) -> bytes:
        return b""

    async def aclose(self) -> None: ...
    async def __aenter__(self) -> _AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None: ...


class _AsyncDrifted:
    def __init__(self, url: str, *, timeout: float = 10.0) -> None: ...
    async def get(self, path: str, *, attempts: int = 3) -> bytes:
        return b""

    async def extra(self) -> None: ...


def _helper(a: int, b: int = 1) -> int:
    return a + b


def _helper_drifted(a: int, c: int = 1) -> int:
    return a + c


def test_checker_accepts_an_exact_mirror() -> None:
    sync = _fake("fake_sync", Client=_SyncClient, helper=_helper)
    async_ = _fake("fake_async", Client=_AsyncClient, helper=_helper)
    assert parity_problems(sync, async_) == []


def test_checker_reports_every_kind_of_drift() -> None:
    sync = _fake("fake_sync", Client=_SyncClient, helper=_helper, only_sync=_helper)
    async_ = _fake("fake_async", Client=_AsyncDrifted, helper=_helper_drifted)
    problems = parity_problems(sync, async_)
    text = "\n".join(problems)
    assert "only_sync: only in fake_sync" in text
    assert "helper: parameters differ" in text
    assert "Client.__init__: default of 'timeout' differs" in text
    assert "Client.get: parameters differ" in text
    assert "Client.close: missing in fake_async" in text
    assert "Client.extra: only in fake_async" in text
    assert "Client.__enter__: missing in fake_async" in text


class _SyncWithCoroutine(_SyncClient):
    async def get(self, path: str, *, retries: int = 3) -> bytes:  # type: ignore[override]
        return b""


def test_checker_reports_a_coroutine_in_the_sync_shell() -> None:
    sync = _fake("fake_sync", Client=_SyncWithCoroutine)
    async_ = _fake("fake_async", Client=_AsyncClient)
    assert any("coroutine in the sync shell" in p for p in parity_problems(sync, async_))
