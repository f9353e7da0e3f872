"""midil-kit's asynchronous shell (httpx, aiobotocore, asyncio).

Every public name here has a twin of the same name and parameters in :mod:`midil_sync`.
"""

__all__: list[str] = []
