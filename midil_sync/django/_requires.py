"""Checked before anything else of ``midil_sync.django`` is imported: names the extra when it is missing."""

from midil_common.extras import require

require("midil_sync.django", "Django", "django", "django", "asgiref")
