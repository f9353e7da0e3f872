"""Optional extras: one check per adapter package that its framework is installed.

Each adapter package (``midil_sync.flask``, ``midil_sync.django``, ``midil_sync.django.drf``,
``midil_async.fastapi``) imports a small ``_requires`` module first, which calls :func:`require`;
its submodules then import the framework plainly, since a package's ``__init__`` always runs
before any of its submodules.
"""

from __future__ import annotations

import importlib

__all__ = ["require"]


def require(package: str, what: str, extra: str, *modules: str) -> None:
    """Import ``modules``; if one is missing, raise an ``ImportError`` that names it and the
    command installing ``extra`` (the original ``ModuleNotFoundError`` chained)."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            raise ImportError(
                f"{package} needs {what} ({exc}): pip install 'midil-kit[{extra}]'"
            ) from exc
