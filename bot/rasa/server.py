"""`python -m bot.rasa.server run …`: Rasa's own command line, with the project's serving fixes.

Takes the same arguments as `rasa` (scripts/run.sh and `make bench` start the Rasa server this
way). Before Rasa's command line runs, it:

- never leaves the HTTP API open: `run --enable-api` without `--auth-token`/`--jwt-secret` takes
  RASA_AUTH_TOKEN; without that, on a loopback interface, a token generated under var/
  (bot.settings.rasa_api_token, which the timer service reads too); on any other interface it
  refuses to start (see `with_api_authentication`);
- checks every request's Host against an allow-list (DNS rebinding) and accepts only JSON bodies
  on the API (a web page cannot send those cross-site without asking first; see
  `guard_requests`);
- validates action-server replies against a JSON-schema validator built once
  (see `validate_action_replies_with_one_validator`);
- loads DIET/TED models straight into their prediction graph
  (see `load_tensorflow_models_for_prediction`);
- finds an event's class in a table instead of walking Event's subclasses for every event it
  reads (see `resolve_event_types_from_a_table`).

Each measured in bench/ (bench/README.md, bench/profile/).
"""
from __future__ import annotations

import argparse
import ipaddress
import sys
from typing import Any, Callable, Dict, Iterable, List, Optional

from bot.settings import API_TOKEN_FILE, LOOPBACK_HOST_NAMES, HttpApiSettings, http_api_settings, rasa_api_token
from bot.text_input import is_json_content_type

RASA_VERSION_CHECKED = "3.6.21"  # guard_requests wraps rasa.core.run.configure_app of this version
MAX_REQUEST_BYTES = 1024 * 1024  # Sanic's default is 100 MB; nothing this server takes comes near 1 MB
WEBHOOKS_ROUTE = "/webhooks/"  # Rasa's default `route`: the channels, which check their own requests
SOCKET_IO_PATH = "/socket.io"


class ApiConfigurationError(SystemExit):
    """The HTTP API would be open beyond loopback: the server does not start."""


def is_loopback(interface: str) -> bool:
    if interface.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(interface).is_loopback
    except ValueError:
        return False


def with_api_authentication(
    argv: List[str], api: HttpApiSettings, generated_token: Callable[[], str] = rasa_api_token
) -> List[str]:
    """Rasa's arguments with the HTTP API's authentication settled (unchanged without `run
    --enable-api`, or with a token or JWT secret given); ApiConfigurationError when it cannot be."""
    if not argv or argv[0] != "run" or (len(argv) > 1 and argv[1] == "actions"):
        return argv
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--enable-api", action="store_true")
    parser.add_argument("--auth-token")
    parser.add_argument("--jwt-secret")
    parser.add_argument("-i", "--interface", default="0.0.0.0")  # Rasa's default
    known, _ = parser.parse_known_args(argv[1:])
    if not known.enable_api or known.auth_token or known.jwt_secret:
        return argv
    # one argument "--auth-token=…": argparse takes a token starting with "-" for an option
    if api.token:
        return [*argv, f"--auth-token={api.token}"]
    if is_loopback(known.interface):
        token = generated_token()
        print(f"HTTP API: token in {API_TOKEN_FILE} (set RASA_AUTH_TOKEN to choose one)", flush=True)
        return [*argv, f"--auth-token={token}"]
    raise ApiConfigurationError(
        f"error: --enable-api on {known.interface} needs authentication: set RASA_AUTH_TOKEN "
        "(or pass --auth-token / --jwt-secret), or listen on 127.0.0.1 only."
    )


def allowed_hosts(api: HttpApiSettings, interface: Optional[str]) -> frozenset[str]:
    """RASA_ALLOWED_HOSTS, else the loopback names and the interface the server listens on."""
    if api.allowed_hosts:
        return frozenset(api.allowed_hosts)
    names = set(LOOPBACK_HOST_NAMES)
    if interface and interface not in ("0.0.0.0", "::"):
        names.add(interface.lower())
    return frozenset(names)


def host_name(header: Optional[str]) -> str:
    """The host of a Host header, lower-case, without port or brackets ("" when there is none)."""
    host = (header or "").strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0].rstrip(".") if host.count(":") <= 1 else host


def guard_requests(app: Any, hosts: Iterable[str]) -> None:
    """Every request: Host must be allowed (400 host_not_allowed); on the HTTP API (not the channels'
    /webhooks/ nor socket.io) a body must be JSON (415 unsupported_media_type)."""
    from sanic import response

    hosts = frozenset(hosts)
    app.config.REQUEST_MAX_SIZE = MAX_REQUEST_BYTES

    async def check(request: Any) -> Any:
        if host_name(request.headers.get("host")) not in hosts:
            return response.json(
                {"error": "host_not_allowed", "message": "Host is not one this server answers for (RASA_ALLOWED_HOSTS)"},
                status=400,
            )
        on_api = not request.path.startswith((WEBHOOKS_ROUTE, SOCKET_IO_PATH))
        if on_api and request.method in ("POST", "PUT", "PATCH") and not is_json_content_type(
            request.headers.get("content-type")
        ):
            return response.json(
                {"error": "unsupported_media_type", "message": "The HTTP API takes application/json bodies only"},
                status=415,
            )
        return None

    app.register_middleware(check, "request")


def guard_every_app(api: HttpApiSettings, interface: Optional[str]) -> None:
    """`guard_requests` on the app Rasa's `run` builds (rasa.core.run.configure_app)."""
    import rasa
    import rasa.core.run

    if rasa.__version__ != RASA_VERSION_CHECKED:
        raise SystemExit(f"bot.rasa.server was checked against Rasa {RASA_VERSION_CHECKED}, not {rasa.__version__}")
    configure_app = rasa.core.run.configure_app
    hosts = allowed_hosts(api, interface)

    def configure_guarded_app(*args: Any, **kwargs: Any) -> Any:
        app = configure_app(*args, **kwargs)
        guard_requests(app, hosts)
        return app

    rasa.core.run.configure_app = configure_guarded_app
    print(f"Host allow-list: {', '.join(sorted(hosts))} (RASA_ALLOWED_HOSTS)", flush=True)

from bot.rasa import guards


def validate_action_replies_with_one_validator() -> None:
    """Rasa checks every action-server reply with `jsonschema.validate()`, which first checks the
    schema itself against the JSON-Schema meta-schema — on every call. That was about 40 % of the
    Rasa server's CPU time at 8 concurrent conversations (bench/profile/1-start-top-ours-8.md). Same
    schema, same errors, validator built once."""
    from jsonschema import exceptions, validators
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
        error = exceptions.best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            f"from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    RemoteAction._validate_action_result = _validate_action_result


def load_tensorflow_models_for_prediction() -> None:
    """To give a saved DIET/TED model its variables, Rasa trains a fresh one on one example — which
    traces the whole training graph (loss, gradients, optimizer) — then overwrites the variables
    with the saved weights. That was most of the server's start-up time and a part of its memory
    (model load 86 → 19 s, −450 MB; bench/README.md). A server only predicts: restore the saved
    weights into the variables the prediction graph creates. Fine-tuning, and models saved without
    a prediction example, load as before."""
    from rasa.utils.tensorflow.models import RasaModel

    load_by_training_one_step = RasaModel.load.__func__

    def load(
        cls: type,
        model_file_name: str,
        model_data_example: Any,
        predict_data_example: Any = None,
        finetune_mode: bool = False,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if finetune_mode or predict_data_example is None:
            return load_by_training_one_step(
                cls, model_file_name, model_data_example, predict_data_example, finetune_mode, *args, **kwargs
            )
        model = cls(*args, **kwargs)
        # Deferred restoration: each saved variable is restored when the prediction graph creates
        # it; the optimizer's saved state is not needed for prediction.
        model.load_weights(model_file_name).expect_partial()
        model.run_inference(predict_data_example)
        return model

    RasaModel.load = classmethod(load)


def resolve_event_types_from_a_table() -> None:
    """Rasa finds the class of each event it reads (tracker store, action-server replies) by walking
    every subclass of Event and calling `inspect.isabstract` on each: about 12 % of the Rasa
    server's CPU per turn (bench/profile/3-compact-store-top-long-1.md). Same classes (the first of a type
    name, as Rasa's walk finds it), looked up in a table that is rebuilt when a type name is not in
    it (a subclass imported later); an unknown type ends in Rasa's own lookup (`topic`, the default,
    the error)."""
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    resolve_by_walking = getattr(Event.resolve_by_type, "by_walking", Event.resolve_by_type)
    table: Dict[str, type] = {}

    def resolve_by_type(type_name: str, default: Optional[type] = None) -> Optional[type]:
        found = table.get(type_name)
        if found is None:
            table.clear()
            for cls in all_subclasses(Event):
                table.setdefault(cls.type_name, cls)
            found = table.get(type_name)
        return found if found is not None else resolve_by_walking(type_name, default)

    resolve_by_type.by_walking = resolve_by_walking  # type: ignore[attr-defined]
    Event.resolve_by_type = staticmethod(resolve_by_type)


def _interface(argv: List[str]) -> Optional[str]:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-i", "--interface", default="0.0.0.0")
    return parser.parse_known_args(argv[1:])[0].interface


def main() -> None:
    api = http_api_settings()
    sys.argv[1:] = with_api_authentication(sys.argv[1:], api)
    guard_every_app(api, _interface(sys.argv[1:]))
    validate_action_replies_with_one_validator()
    load_tensorflow_models_for_prediction()
    resolve_event_types_from_a_table()
    guards.install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
