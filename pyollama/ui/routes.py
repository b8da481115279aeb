"""`GET /ui`: the web chat page, plain HTML/JS/CSS shipped in the package (no build step, nothing
fetched from the network: no CDN fonts or scripts, so it works offline and under a strict CSP).

The page talks to the daemon's own `/api/tags` and `/api/chat`. Its files are read once, at the
first request, from `pyollama/ui/static/`; only the names in `FILES` are served.
"""

from __future__ import annotations

from importlib import resources

from aiohttp import web

FILES = {
    "index.html": "text/html",
    "app.js": "text/javascript",
    "markdown.js": "text/javascript",
    "style.css": "text/css",
}
# the page loads only its own files; connect-src 'self' covers /api/*
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _read(name: str) -> bytes:
    return resources.files("pyollama.ui").joinpath("static", name).read_bytes()


def add_routes(app: web.Application) -> None:
    cache: dict[str, bytes] = {}

    async def serve(request: web.Request) -> web.StreamResponse:
        name = request.match_info.get("name", "index.html")
        kind = FILES.get(name)
        if kind is None:
            raise web.HTTPNotFound()
        if name not in cache:
            cache[name] = _read(name)
        return web.Response(
            body=cache[name],
            content_type=kind,
            charset="utf-8",
            headers={
                "Content-Security-Policy": CSP,
                "Cache-Control": "no-cache",
                "X-Content-Type-Options": "nosniff",
            },
        )

    app.router.add_get("/ui", serve)
    app.router.add_get("/ui/{name}", serve)
