"""midil-kit's core: models and decisions, free of I/O (see docs/architecture.md).

Submodules: ``errors``, ``settings``, ``http``, ``jsonapi``, ``auth``, ``events``, ``testing``.
"""

import logging

# A library adds nothing but a NullHandler: without it, Python's last-resort handler would print the
# kit's warnings (``midil.auth``, ``midil.http``, ...) to stderr in applications that configure no
# logging. Applications that configure logging see every record as usual.
logging.getLogger("midil").addHandler(logging.NullHandler())

__version__ = "4.0.0"

__all__ = ["__version__"]
