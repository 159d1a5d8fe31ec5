"""Swagger UI's files from drf-spectacular-sidecar, served by Django: the docs work offline,
without a CDN and without collectstatic (they are a handful of files, cached by browsers)."""

from __future__ import annotations

import mimetypes
from pathlib import Path

import drf_spectacular_sidecar
from django.http import FileResponse, HttpRequest, JsonResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from .views import api_not_found

_DIST = Path(drf_spectacular_sidecar.__file__).parent / "static/drf_spectacular_sidecar"
_SWAGGER = _DIST / "swagger-ui-dist"
# Only these, so no path from the URL ever reaches the filesystem.
_FILES = {
    name: _SWAGGER / name
    for name in (
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "favicon-32x32.png",
        "oauth2-redirect.html",
    )
}


@require_GET
@cache_control(public=True, max_age=86400)
def docs_asset(request: HttpRequest, name: str) -> FileResponse | JsonResponse:
    path = _FILES.get(name)
    if path is None or not path.is_file():
        return api_not_found(request)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(path.open("rb"), content_type=content_type)
