"""midil-kit's core: models and decisions, free of I/O (see docs/architecture.md).

Submodules: ``errors``, ``settings``, ``http``, ``jsonapi``, ``auth``, ``events``, ``testing``.
"""

__version__ = "4.0.0"

__all__ = ["__version__"]
