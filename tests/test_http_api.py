"""bot/rasa/server.py: the HTTP API is never open, Host is checked, the API takes JSON only;
the timer service authenticates with the same token (bot/settings.py)."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import uuid

import aiohttp
import pytest
from sanic import Sanic, response

from bot import settings
from bot.rasa import server
from bot.settings import HttpApiSettings
from tests.channel_stand_ins import _loopback_socket, run

RUN = ["run", "--model", "models/consultation.tar.gz", "--port", "5999"]
NO_TOKEN = HttpApiSettings(token=None, allowed_hosts=())


def generated() -> str:
    return "generated-token"


@pytest.mark.parametrize(
    "argv",
    [RUN, [*RUN, "--enable-api", "--auth-token", "given"], [*RUN, "--enable-api", "--jwt-secret", "s"], ["run", "actions"],
     ["train"], []],
)
def test_arguments_that_need_nothing_are_unchanged(argv):
    assert server.with_api_authentication(argv, NO_TOKEN, generated) == argv


def test_the_token_from_the_environment_protects_the_api_on_any_interface():
    argv = [*RUN, "--enable-api", "-i", "0.0.0.0"]
    api = HttpApiSettings(token="from-env", allowed_hosts=())
    assert server.with_api_authentication(argv, api, generated) == [*argv, "--auth-token=from-env"]


@pytest.mark.parametrize("interface", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_on_loopback_without_a_token_a_generated_one_protects_the_api(interface):
    argv = [*RUN, "--enable-api", "--interface", interface]
    assert server.with_api_authentication(argv, NO_TOKEN, generated) == [*argv, "--auth-token=generated-token"]


@pytest.mark.parametrize("interface", [None, "0.0.0.0", "::", "10.0.0.5", "bot.example.jp"])
def test_beyond_loopback_without_a_token_the_server_refuses_to_start(interface):
    argv = [*RUN, "--enable-api", *(["-i", interface] if interface else [])]
    with pytest.raises(server.ApiConfigurationError, match="RASA_AUTH_TOKEN"):
        server.with_api_authentication(argv, NO_TOKEN, generated)


def test_the_command_refuses_to_start_with_a_clear_message(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "RASA_AUTH_TOKEN"}
    result = subprocess.run(
        [sys.executable, "-m", "bot.rasa.server", "run", "--enable-api", "--interface", "0.0.0.0", "--port", "0"],
        cwd=settings.PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0
    assert "--enable-api on 0.0.0.0 needs authentication: set RASA_AUTH_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "header,host",
    [("127.0.0.1:5005", "127.0.0.1"), ("LOCALHOST", "localhost"), ("[::1]:5005", "::1"), ("bot.example.jp.", "bot.example.jp"),
     ("evil.example:80", "evil.example"), (None, "")],
)
def test_host_names(header, host):
    assert server.host_name(header) == host


def test_the_allowed_hosts():
    assert server.allowed_hosts(NO_TOKEN, "0.0.0.0") == {"localhost", "127.0.0.1", "::1"}
    assert "10.0.0.5" in server.allowed_hosts(NO_TOKEN, "10.0.0.5")
    assert server.allowed_hosts(HttpApiSettings(None, ("bot.example.jp",)), "0.0.0.0") == {"bot.example.jp"}


async def _guarded_requests(requests):
    app = Sanic(f"guard_{uuid.uuid4().hex}", configure_logging=False)

    @app.route("/conversations/<conversation_id:path>/trigger_intent", methods=["POST"])
    async def trigger(_request, conversation_id):
        return response.json({"ok": conversation_id})

    @app.route("/webhooks/slack/webhook", methods=["POST"])
    async def slack(_request):
        return response.text("")

    server.guard_requests(app, server.allowed_hosts(NO_TOKEN, "127.0.0.1"))
    sock = _loopback_socket()
    port = sock.getsockname()[1]
    http = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    await http.startup()
    await http.before_start()
    await http.after_start()
    statuses = []
    try:
        async with aiohttp.ClientSession() as session:
            for path, headers, body in requests:
                async with session.post(f"http://127.0.0.1:{port}{path}", headers=headers, data=body) as answer:
                    statuses.append((answer.status, (await answer.json(content_type=None)) if answer.status != 200 or
                                     "json" in answer.content_type else None))
    finally:
        await http.before_stop()
        http.close()
        await http.wait_closed()
        await http.after_stop()
    return statuses


def test_host_and_content_type_are_checked_on_the_api_only_json_bodies():
    trigger = "/conversations/employee-1/trigger_intent"
    results = run(_guarded_requests([
        (trigger, {"Content-Type": "application/json"}, b'{"name": "ask_time_limit"}'),
        (trigger, {"Content-Type": "text/plain"}, b'{"name": "ask_time_limit"}'),
        (trigger, {"Content-Type": "application/x-www-form-urlencoded"}, b"name=x"),
        (trigger, {"Content-Type": "application/json", "Host": "evil.example"}, b"{}"),
        (trigger, {"Content-Type": "application/json", "Host": "localhost:5005"}, b"{}"),
        ("/webhooks/slack/webhook", {"Content-Type": "application/x-www-form-urlencoded"}, b"payload=%7B%7D"),
        ("/webhooks/slack/webhook", {"Content-Type": "application/json", "Host": "evil.example"}, b"{}"),
    ]))
    assert [status for status, _ in results] == [200, 415, 415, 400, 200, 200, 400]
    assert results[1][1]["error"] == "unsupported_media_type"
    assert results[3][1]["error"] == "host_not_allowed"


def test_rasa_is_the_version_the_guard_was_checked_against():
    """Fails when Rasa changes under bot/rasa/server.py: re-check configure_app and the auth options."""
    import inspect

    import rasa
    import rasa.core.run

    assert rasa.__version__ == server.RASA_VERSION_CHECKED
    parameters = inspect.signature(rasa.core.run.configure_app).parameters
    assert {"auth_token", "enable_api", "jwt_secret", "route"} <= set(parameters)
    assert parameters["route"].default == server.WEBHOOKS_ROUTE
    assert "configure_app(" in inspect.getsource(rasa.core.run.serve_application)


# --- the generated secrets and the timer service -------------------------------------------------


def test_a_generated_secret_is_created_once_private_and_shared(tmp_path, monkeypatch):
    monkeypatch.delenv("SOME_SECRET", raising=False)
    path = tmp_path / "var" / "secret"
    first = settings.secret("SOME_SECRET", path)
    assert len(first) >= 40 and settings.secret("SOME_SECRET", path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["secret"]  # no draft left behind
    monkeypatch.setenv("SOME_SECRET", " chosen ")
    assert settings.secret("SOME_SECRET", path) == "chosen"


def test_processes_started_together_agree_on_the_generated_secret(tmp_path):
    code = "import sys; from pathlib import Path; from bot.settings import secret; print(secret('UNSET_X', Path(sys.argv[1])))"
    env = {key: value for key, value in os.environ.items() if key != "UNSET_X"}
    processes = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "s")], cwd=settings.PROJECT_ROOT, env=env,
                                  stdout=subprocess.PIPE, text=True) for _ in range(4)]
    tokens = {process.communicate(timeout=60)[0].strip() for process in processes}
    assert len(tokens) == 1 and "" not in tokens


def test_the_timer_service_sends_the_api_token(tmp_path, monkeypatch):
    from bot import timer_service

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'records.db'}")
    monkeypatch.setenv("RASA_AUTH_TOKEN", "the-api-token")
    service = timer_service.service_from_environment(settings.load_organization(), poll=1)
    try:
        assert service.send.token == "the-api-token"
    finally:
        service.dispose()
    monkeypatch.delenv("RASA_AUTH_TOKEN")
    monkeypatch.setattr(settings, "API_TOKEN_FILE", tmp_path / "rasa-api-token")
    service = timer_service.service_from_environment(settings.load_organization(), poll=1)
    try:
        assert service.send.token == (tmp_path / "rasa-api-token").read_text().strip()  # what the server uses
    finally:
        service.dispose()


def test_a_token_starting_with_a_dash_reaches_rasa_as_the_token():
    import argparse

    api = HttpApiSettings(token="-Xy_secret", allowed_hosts=())  # secrets.token_urlsafe may start so
    argv = server.with_api_authentication([*RUN, "--enable-api"], api, generated)
    rasa_like = argparse.ArgumentParser(add_help=False)
    rasa_like.add_argument("-t", "--auth-token")
    rasa_like.add_argument("--enable-api", action="store_true")
    assert rasa_like.parse_known_args(argv[1:])[0].auth_token == "-Xy_secret"
