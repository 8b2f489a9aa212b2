"""The production profile for tests/scale: the cluster of bench/cluster.py (Rasa servers, an
action server, PostgreSQL and Redis on 127.0.0.1) and nginx with deploy/nginx/kasuhara.conf in
front of it.
"""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import requests

from bench.cluster import MODEL, REQUEST_TIMEOUT_S, ROOT, Cluster, Server  # noqa: F401 -- the tests' imports
from bench.processes import free_port

NGINX = Path(os.environ.get("TEST_NGINX", ROOT / "var" / "nginx" / "usr" / "sbin" / "nginx"))  # `make nginx`
NGINX_SITE = ROOT / "deploy" / "nginx" / "kasuhara.conf"


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (for the balancer's TLS; the test trusts it)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


def render_site(cluster: Cluster, http_port: int, https_port: int, cert: Path, key: Path) -> str:
    """deploy/nginx/kasuhara.conf with the cluster's servers, loopback ports and the test certificate."""
    site = NGINX_SITE.read_text(encoding="utf-8")
    replacements = {
        "server rasa1:5005": f"server {cluster.rasa[0].health_url.removeprefix('http://')}",
        "server rasa2:5005": f"server {cluster.rasa[1].health_url.removeprefix('http://')}",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
        "/etc/nginx/tls/fullchain.pem": str(cert),
        "/etc/nginx/tls/privkey.pem": str(key),
    }
    for placeholder, value in replacements.items():
        assert site.count(placeholder) == 1, f"{NGINX_SITE.name}: expected one '{placeholder}'"
        site = site.replace(placeholder, value)
    return site


def start_balancer(cluster: Cluster) -> tuple[Server, Path]:
    """nginx with deploy/nginx/kasuhara.conf in front of the cluster's two Rasa servers, on
    loopback, as the invoking user (one process, files under the test's directory); returns it
    and its access log (method, path, status, the servers tried)."""
    home = cluster.tmp / "nginx"
    home.mkdir()
    cert, key = self_signed_certificate(home)
    http_port, https_port = free_port(), free_port()
    (home / "kasuhara.conf").write_text(render_site(cluster, http_port, https_port, cert, key), encoding="utf-8")
    temp_paths = "\n".join(f"    {kind}_temp_path {home / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    access_log = home / "access.log"
    (home / "nginx.conf").write_text(f"""daemon off;
master_process off;
pid {home / 'nginx.pid'};
error_log {home / 'error.log'} notice;
events {{ worker_connections 256; }}
http {{
    log_format upstream '$request_method $uri $status $upstream_addr';
    access_log {access_log} upstream;
{temp_paths}
    include {home / 'kasuhara.conf'};
}}
""", encoding="utf-8")
    cmd = [str(NGINX), "-e", str(home / "error.log"), "-p", str(home), "-c", str(home / "nginx.conf")]
    checked = subprocess.run([*cmd, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    balancer = Server("nginx", cmd, home / "stdout.log", f"https://127.0.0.1:{https_port}", verify=str(cert))
    balancer.start(cluster.env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(balancer.health_url + "/webhooks/rest/", verify=balancer.verify, timeout=2)
            return balancer, access_log
        except requests.RequestException:
            if not balancer.alive():
                break
            time.sleep(0.2)
    raise RuntimeError(f"nginx did not start: {(home / 'error.log').read_text(errors='replace')}")
