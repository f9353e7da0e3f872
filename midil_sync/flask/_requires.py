"""Checked before anything else of ``midil_sync.flask`` is imported: names the extra when it is missing."""

from midil_common.extras import require

require("midil_sync.flask", "Flask", "flask", "flask", "werkzeug")
