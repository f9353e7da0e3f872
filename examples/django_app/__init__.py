"""A small JSON:API "articles" service on Django (plain views, an async view and a DRF viewset)."""
