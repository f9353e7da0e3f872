"""Checked before anything else of ``midil_sync.django.drf`` is imported: names the extra when it is missing."""

from midil_common.extras import require

require(
    "midil_sync.django.drf",
    "Django and Django REST framework",
    "django",
    "django",
    "rest_framework",
)
