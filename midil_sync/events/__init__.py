"""In-process events for the sync shell: ``EventDispatcher`` and ``PeriodicTask``."""

from typing import TYPE_CHECKING

from midil_common._lazy import exports

if TYPE_CHECKING:
    from midil_sync.events.dispatcher import DrainResult, EventDispatcher
    from midil_sync.events.periodic import PeriodicTask

__all__: list[str] = [
    "DrainResult",
    "EventDispatcher",
    "PeriodicTask",
]

# Imported on first use (PEP 562): importing the package loads neither pydantic nor the core events.
__getattr__, __dir__ = exports(
    __name__,
    {
        "DrainResult": "midil_sync.events.dispatcher",
        "EventDispatcher": "midil_sync.events.dispatcher",
        "PeriodicTask": "midil_sync.events.periodic",
    },
)
