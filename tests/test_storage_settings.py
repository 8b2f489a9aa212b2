"""load_settings(): the storage and desk settings read from the environment, and the customer-key secret."""
from __future__ import annotations

import stat

import pytest

from bot.settings import DEFAULT_DATABASE_URL, Settings, SettingsError, customer_key_secret, load_settings


def test_defaults_listen_on_loopback_and_send_no_mail():
    settings = load_settings({})
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert (settings.desk_host, settings.desk_port) == ("127.0.0.1", 5007)
    assert settings.desk_base_url == "http://127.0.0.1:5007"
    assert settings.smtp is None and settings.retention_days == 1095 and settings.cookie_secure is False


def test_every_variable_is_read():
    settings = load_settings({
        "DATABASE_URL": "postgresql://db/x", "DESK_HOST": "10.0.0.5", "DESK_PORT": "8080",
        "DESK_BASE_URL": "https://desk.example/", "DESK_COOKIE_SECURE": "1", "DESK_RETENTION_DAYS": "30",
        "DESK_SMTP_HOST": "mail", "DESK_SMTP_PORT": "2525", "DESK_SMTP_STARTTLS": "1", "DESK_SMTP_USER": "u",
        "DESK_SMTP_PASSWORD": "p", "DESK_ALERT_FROM": "bot@example", "DESK_ALERT_TO": "a@example, b@example",
    })
    assert settings.database_url == "postgresql://db/x"
    assert (settings.desk_host, settings.desk_port, settings.desk_base_url) == ("10.0.0.5", 8080, "https://desk.example")
    assert settings.cookie_secure is True and settings.retention_days == 30
    assert settings.smtp.host == "mail" and settings.smtp.port == 2525 and settings.smtp.starttls is True
    assert settings.smtp.recipients == ("a@example", "b@example") and settings.smtp.sender == "bot@example"


@pytest.mark.parametrize("environ, message", [
    ({"DESK_PORT": "http"}, "DESK_PORT"),
    ({"DESK_PORT": "0"}, "DESK_PORT"),
    ({"DESK_RETENTION_DAYS": "-3"}, "DESK_RETENTION_DAYS"),
    ({"DESK_COOKIE_SECURE": "maybe"}, "DESK_COOKIE_SECURE"),
    ({"DESK_SMTP_HOST": "mail", "DESK_ALERT_FROM": "bot@example"}, "DESK_ALERT_TO"),
])
def test_a_bad_value_names_the_variable(environ, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(environ)


def test_the_secret_file_is_made_once_and_private(tmp_path):
    settings = Settings(secret_file=tmp_path / "var" / "desk-secret")
    first = customer_key_secret(settings)
    assert len(first) == 64 and customer_key_secret(settings) == first
    assert stat.S_IMODE(settings.secret_file.stat().st_mode) == 0o600
    assert customer_key_secret(Settings(customer_key_secret="from-env", secret_file=tmp_path / "x")) == b"from-env"
    (tmp_path / "empty").write_text("")
    with pytest.raises(SettingsError, match="empty"):
        customer_key_secret(Settings(secret_file=tmp_path / "empty"))
