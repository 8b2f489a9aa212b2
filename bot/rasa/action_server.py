"""`python -m bot.rasa.action_server [--port 5055]`: rasa_sdk's action server, on loopback and authenticated.

`rasa run actions` listens on 0.0.0.0 and runs whatever `/webhook` request it gets: anyone who can
reach the port can read and write consultation records. This server is rasa_sdk's own app with

- the host from SANIC_HOST, else 127.0.0.1 (bot.settings.action_server_host);
- every request but `/health` refused with 401 unless it carries ``Authorization: Bearer <secret>``
  (bot.settings.action_server_token: ACTION_SERVER_TOKEN, else var/action_server.token). The Rasa
  server started through `python -m bot.rasa.server` sends it (bot/rasa/remote_actions.py);
- no CORS: only the Rasa server calls it, never a browser.
"""
from __future__ import annotations

import argparse
import hmac
import logging

from rasa_sdk import utils
from rasa_sdk.constants import DEFAULT_SERVER_PORT
from rasa_sdk.endpoint import create_app
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import settings

UNAUTHENTICATED_PATHS = frozenset({"/health"})
AUTHORIZATION_SCHEME = "Bearer "

log = logging.getLogger("bot.rasa.action_server")


def authorization_header(token: str) -> dict[str, str]:
    """The header the Rasa server sends with every action call."""
    return {"Authorization": AUTHORIZATION_SCHEME + token}


def is_authorized(request: Request, token: str) -> bool:
    given = request.headers.get("Authorization") or ""
    if not given.startswith(AUTHORIZATION_SCHEME):
        return False
    return hmac.compare_digest(given[len(AUTHORIZATION_SCHEME):].encode(), token.encode())


def create_authenticated_app(actions_package: str, token: str) -> Sanic:
    if not token:
        raise ValueError("the action server needs a non-empty secret")
    app = create_app(actions_package, cors_origins="")

    @app.on_request
    async def require_the_secret(request: Request) -> HTTPResponse | None:
        if request.path in UNAUTHENTICATED_PATHS or is_authorized(request, token):
            return None
        log.warning("refused %s %s from %s: no valid secret", request.method, request.path, request.ip)
        return response.json(
            {"error": "unauthorized", "message": "missing or wrong action server secret"},
            status=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.rasa.action_server", description=__doc__.split("\n")[0])
    parser.add_argument("--actions", default="actions", help="package with the custom actions (default: actions)")
    parser.add_argument("--port", type=int, default=DEFAULT_SERVER_PORT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = create_authenticated_app(args.actions, settings.action_server_token())
    host = settings.action_server_host()
    log.info("action server on http://%s:%s (secret required)", host, args.port)
    app.run(host, args.port, workers=utils.number_of_sanic_workers(), access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
