"""Checked before anything else of ``midil_async.fastapi`` is imported: names the extra when it is missing."""

from midil_common.extras import require

require("midil_async.fastapi", "FastAPI", "fastapi", "fastapi", "starlette")
