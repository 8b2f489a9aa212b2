"""deploy/: the compose file, the Helm values, the Dockerfile and the nginx config agree with the
project's files (what could drift without anyone running containers here; docs/deployment.md)."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
PRODUCTION = yaml.safe_load((ROOT / "endpoints.production.yml").read_text(encoding="utf-8"))
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
HELM = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text(encoding="utf-8"))
NGINX = (DEPLOY / "nginx" / "kasuhara.conf").read_text(encoding="utf-8")


def test_every_rasa_service_sets_what_endpoints_production_reads():
    wanted = set(re.findall(r"\$\{(\w+)\}", (ROOT / "endpoints.production.yml").read_text(encoding="utf-8")))
    assert {"ACTION_ENDPOINT_URL", "POSTGRES_HOST", "REDIS_HOST"} <= wanted
    rasa = [name for name in COMPOSE["services"] if name.startswith("rasa")]
    assert len(rasa) >= 2
    for name in rasa:
        assert wanted <= set(COMPOSE["services"][name]["environment"]), name
        assert "DATABASE_URL" in COMPOSE["services"][name]["environment"]
    assert "DATABASE_URL" in COMPOSE["services"]["actions"]["environment"]


def test_only_nginx_publishes_ports_and_its_upstreams_are_the_rasa_services():
    published = [name for name, service in COMPOSE["services"].items() if service.get("ports")]
    assert published == ["nginx"]
    assert "./nginx/kasuhara.conf:/etc/nginx/conf.d/default.conf:ro" in COMPOSE["services"]["nginx"]["volumes"]
    upstreams = re.findall(r"^\s*server (\w+):5005", NGINX, flags=re.M)
    assert sorted(upstreams) == sorted(name for name in COMPOSE["services"] if name.startswith("rasa"))
    assert "ip_hash" not in NGINX and "sticky" not in NGINX  # round robin, no stickiness


def test_the_helm_values_use_the_same_stores_and_several_replicas():
    endpoints = HELM["applicationSettings"]["endpoints"]
    assert endpoints["trackerStore"]["type"] == PRODUCTION["tracker_store"]["type"]
    assert endpoints["trackerStore"]["dialect"] == "postgresql"
    assert endpoints["lockStore"]["enabled"] and endpoints["lockStore"]["type"] == PRODUCTION["lock_store"]["type"]
    assert HELM["replicaCount"] >= 2
    assert HELM["command"] == ["python", "-m", "bot.rasa.server"] and "--enable-api" not in HELM["args"]
    assert HELM["applicationSettings"]["initialModel"] == ""  # the model is in the image


def test_the_image_copies_files_that_exist_or_that_make_train_builds():
    built_by_make = {"models/consultation.tar.gz", "models/ja_ginza_tokens/"}
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    sources = [part for line in dockerfile.splitlines() if line.startswith("COPY ")
               for part in line.split()[1:-1]]
    assert "requirements.lock" in sources and built_by_make <= set(sources)
    for source in set(sources) - built_by_make:
        assert (ROOT / source).exists(), source
    assert "--no-deps -r requirements.lock" in dockerfile and "FROM python:3.10-slim" in dockerfile


def test_the_probes_use_readiness_and_keep_liveness():
    """Readiness (GET /webhooks/rest/ready: the action server and the tracker store answer) for the
    Helm readinessProbe and the compose healthcheck of the Rasa servers; liveness stays as it was."""
    assert HELM["readinessProbe"]["httpGet"]["path"] == "/webhooks/rest/ready"
    assert HELM["livenessProbe"]["httpGet"]["path"] == "/"
    for name in (name for name in COMPOSE["services"] if name.startswith("rasa")):
        assert "/webhooks/rest/ready" in " ".join(COMPOSE["services"][name]["healthcheck"]["test"]), name
    rest = (ROOT / "bot" / "channels" / "rest.py").read_text(encoding="utf-8")
    assert '@rest_webhook.route("/ready", methods=["GET"])' in rest
    assert '@rest_webhook.route("/", methods=["GET"])' in rest
