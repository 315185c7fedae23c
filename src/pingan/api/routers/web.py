"""The browser apps (dashboard, field, citizen) as static files served by the API process.

Plain ES modules and vendored libraries: nothing is fetched from a CDN, so the apps work on a
command centre's closed network.
"""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

WEB_ROOT = Path(__file__).resolve().parents[2] / "web"
APPS = ("home", "dashboard", "field", "citizen", "hotline", "shared", "vendor")

router = APIRouter(include_in_schema=False)

mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/javascript", ".js")


@router.get("/")
def landing() -> RedirectResponse:
    return RedirectResponse("/home/", status_code=307)


class AppFiles(StaticFiles):
    """Static files that browsers revalidate, so a release is picked up without a hard reload."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.setdefault("Cache-Control", "no-cache")
        return response


def install(app: FastAPI) -> None:
    app.include_router(router)
    for name in APPS:
        directory = WEB_ROOT / name
        if directory.is_dir():
            app.mount(f"/{name}", AppFiles(directory=directory, html=True), name=f"web-{name}")
