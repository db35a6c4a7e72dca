"""The staff console and the gate scanner page: static files served through the API, so that
`make run` and every deployed stage serve them from the same origin as the API they call (no
CORS, no second deployment). The files are chalicelib/console; no build step."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from chalice import Blueprint, Response

from ..domain.error_codes import ErrorCode
from ..domain.errors import NotFound
from .http import Call, endpoint

bp = Blueprint(__name__)
ROOT = Path(__file__).resolve().parent.parent / "console"
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".html": "text/html; charset=utf-8"}
# Same origin only; blob:/data: for the camera frames and chart exports; no inline script.
_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
           "media-src 'self' blob: mediastream:; connect-src 'self'; worker-src 'self'; frame-ancestors 'none'; "
           "base-uri 'none'; form-action 'self'; object-src 'none'")


@lru_cache(maxsize=None)
def asset_names(folder: str = "") -> tuple[str, ...]:
    """The files in assets/ (or in its folder `folder`: pages/ holds a module per console page),
    listed once: they are part of the package."""
    return tuple(sorted(p.name for p in (ROOT / "assets" / folder).iterdir() if p.suffix in (".js", ".css")))


@lru_cache(maxsize=None)
def _read(relative: str) -> str:
    return (ROOT / relative).read_text(encoding="utf-8")


def _file(relative: str, cache: str = "no-cache", **extra: str) -> Response:
    return Response(body=_read(relative), status_code=200,
                    headers={"Content-Type": _TYPES[Path(relative).suffix], "Cache-Control": cache,
                             "Content-Security-Policy": _POLICY, "X-Content-Type-Options": "nosniff",
                             "Referrer-Policy": "no-referrer", **extra})


def _page(call: Call, relative: str, directory: bool) -> Response:
    """Pages resolve their assets relative to /console/: /console (no slash) is sent to /console/,
    /console/scanner/ to /console/scanner (API Gateway routes both spellings here). The Location is
    relative, so it stays on this host and stage whatever the request said."""
    path = str(call.request.context.get("path") or "")
    if path and path.endswith("/") != directory:
        location = "console/" if directory else "../scanner"
        return Response(body="", status_code=302, headers={"Location": location, "Content-Type": "text/html"})
    return _file(relative)


@endpoint(bp, "GET", "/console")
def console(call: Call) -> Response:
    return _page(call, "index.html", directory=True)


@endpoint(bp, "GET", "/console/scanner")
def scanner(call: Call) -> Response:
    return _page(call, "scanner.html", directory=False)


@endpoint(bp, "GET", "/console/sw.js")
def service_worker(call: Call) -> Response:
    return _file("sw.js", **{"Service-Worker-Allowed": "./"})


@endpoint(bp, "GET", "/console/assets/{name}")
def asset(call: Call, name: str) -> Response:
    if name not in asset_names():
        raise NotFound("no such file", code=ErrorCode.NOT_FOUND)
    # Revalidated on every load: the files carry no version in their names, and a page must never
    # run one deployment's script with another's.
    return _file(f"assets/{name}")


@endpoint(bp, "GET", "/console/assets/pages/{name}")
def page_module(call: Call, name: str) -> Response:
    if name not in asset_names("pages"):
        raise NotFound("no such file", code=ErrorCode.NOT_FOUND)
    return _file(f"assets/pages/{name}")
