"""Settings of the example project: no database, bearer tokens from any OIDC issuer.

Run it (from ``examples/``) with::

    MIDIL_AUTH__ISSUER=https://issuer.example MIDIL_AUTH__AUDIENCE=articles-api \\
        DJANGO_SETTINGS_MODULE=django_app.settings uvicorn django_app.asgi:application
"""

SECRET_KEY = "example-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "django_app.urls"
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
]
DATABASES: dict[str, object] = {}
# Every entry is sync and async capable, so under ASGI no request is handed to a thread.
MIDDLEWARE = ["midil_sync.django.AuthMiddleware"]

# Issuer, audience and the rest fall back to MIDIL_AUTH__... environment variables.
MIDIL = {
    "REALM": "articles",
    "EXCLUDED_PATHS": ["/health"],
    "PERMISSION_POLICY": "django_app.views.POLICY",
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["midil_sync.django.drf.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [],
    "EXCEPTION_HANDLER": "midil_sync.django.drf.jsonapi_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["midil_sync.django.drf.JSONAPIRenderer"],
    "DEFAULT_PARSER_CLASSES": ["midil_sync.django.drf.JSONAPIParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "midil_sync.django.drf.JSONAPIContentNegotiation",
}
