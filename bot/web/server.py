"""A tiny static server for the web chat (aiohttp), on loopback by default.

    python -m bot.web [--host 127.0.0.1] [--port 5006] [--socket-url http://127.0.0.1:5005]

Serves the page (bot/web/static), /config.json (where Rasa's socket.io endpoint is), /session (a
signed token for a new chat session, which the socket.io channel requires: bot/session_tokens.py,
the secret from bot.settings.webchat_settings) and /vendor/socket.io.min.js from node_modules/socket.io-client (installed by `npm ci`; nothing is
vendored in git). The browser connects to Rasa directly over a WebSocket, so Rasa's socketio
channel (credentials.yml) must be enabled.
"""
from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from bot.session_tokens import issue
from bot.settings import PROJECT_ROOT, webchat_settings

STATIC = Path(__file__).resolve().parent / "static"
SOCKET_IO_CLIENT = PROJECT_ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
PAGES = {"/": ("index.html", "text/html"), "/app.js": ("app.js", "text/javascript"), "/style.css": ("style.css", "text/css")}


def _csp(socket_url: str) -> str:
    parts = urlsplit(socket_url)
    ws_scheme = "wss" if parts.scheme == "https" else "ws"
    origin = f"{parts.scheme}://{parts.netloc}"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' {origin} {ws_scheme}://{parts.netloc}; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


def create_app(
    socket_url: str, session_secret: str, socket_path: str = "/socket.io/", client_js: Path = SOCKET_IO_CLIENT
) -> web.Application:
    config = {"socket_url": socket_url.rstrip("/"), "socket_path": socket_path}
    headers = {
        "Content-Security-Policy": _csp(socket_url),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }

    async def page(request: web.Request) -> web.Response:
        name, content_type = PAGES[request.path]
        body = (STATIC / name).read_text(encoding="utf-8")
        return web.Response(text=body, content_type=content_type, charset="utf-8", headers=headers)

    async def config_json(_: web.Request) -> web.Response:
        return web.json_response(config, headers=headers)

    async def new_session(_: web.Request) -> web.Response:
        return web.json_response({"session_token": issue(session_secret)}, headers={**headers, "Cache-Control": "no-store"})

    async def socket_io_client(_: web.Request) -> web.Response:
        if not client_js.is_file():
            raise web.HTTPNotFound(text=f"{client_js} がありません。`npm ci` を実行してください（make install）。")
        return web.Response(body=client_js.read_bytes(), content_type="text/javascript", headers=headers)

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    for path in PAGES:
        app.router.add_get(path, page)
    app.router.add_get("/config.json", config_json)
    app.router.add_get("/session", new_session)
    app.router.add_get("/vendor/socket.io.min.js", socket_io_client)
    app.router.add_get("/health", health)
    return app


def main(argv: list[str] | None = None) -> int:
    default_socket = os.environ.get("WEBCHAT_SOCKET_URL") or f"http://127.0.0.1:{os.environ.get('RASA_PORT', '5005')}"
    parser = argparse.ArgumentParser(prog="python -m bot.web", description="Serve the web chat page.")
    parser.add_argument("--host", default=os.environ.get("WEBCHAT_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("WEBCHAT_PORT", "5006")))
    parser.add_argument("--socket-url", default=default_socket, help="Rasa server with the socketio channel")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if not SOCKET_IO_CLIENT.is_file():
        print(f"warning: {SOCKET_IO_CLIENT} is missing; run `npm ci`", flush=True)
    web.run_app(create_app(args.socket_url, webchat_settings().session_secret), host=args.host, port=args.port, print=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
