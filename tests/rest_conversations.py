"""A real bot over REST for conversation tests: the trained model and the action server, started
once per test module on free loopback ports, driven over HTTP like an integrator would.

Each conversation uses its own sender; the servers share one temporary database and
organisation file (a 30-minute limit, as shipped).
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "consultation.tar.gz"
START_TIMEOUT_SECONDS = 300


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.time() + START_TIMEOUT_SECONDS
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[:3]} exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"not up after {START_TIMEOUT_SECONDS} s: {url}\n{log.read_text()[-3000:]}")


@dataclass
class Servers:
    url: str
    database_url: str


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run make train", pytrace=False)
    work = tmp_path_factory.mktemp("rest-bot")
    action_port, rasa_port = free_port(), free_port()
    database_url = f"sqlite:///{work / 'consultations.db'}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SANIC_HOST": "127.0.0.1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    }
    env.pop("REST_CHANNEL_TOKEN", None)
    (work / "endpoints.yml").write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n  enable_selective_domain: true\n'
        # the store endpoints.yml names, folding after 2 turns and keeping 3 (8 and 8 shipped), so
        # that these conversations run on compact trackers
        "tracker_store:\n  type: bot.rasa.compact_store.CompactingSQLTrackerStore\n"
        f'  dialect: "sqlite"\n  db: "{work / "tracker.db"}"\n  keep_turns: 3\n  fold_turns: 2\n',
        encoding="utf-8",
    )
    (work / "credentials.yml").write_text("bot.channels.rest.ProtectedRestInput:\n", encoding="utf-8")
    bin_dir = Path(sys.executable).parent
    logs = {name: work / f"{name}.log" for name in ("actions", "rasa")}
    processes: list[subprocess.Popen] = []
    try:
        with logs["actions"].open("w") as log:
            actions = subprocess.Popen(
                [str(bin_dir / "rasa"), "run", "actions", "--actions", "actions", "--port", str(action_port)],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
        processes.append(actions)
        _wait_for(f"http://127.0.0.1:{action_port}/health", actions, logs["actions"])
        with logs["rasa"].open("w") as log:
            rasa = subprocess.Popen(
                [sys.executable, "-m", "bot.rasa.server", "run", "--model", str(MODEL),
                 "--endpoints", str(work / "endpoints.yml"), "--credentials", str(work / "credentials.yml"),
                 "--port", str(rasa_port), "--interface", "127.0.0.1"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
        processes.append(rasa)
        _wait_for(f"http://127.0.0.1:{rasa_port}/webhooks/rest/", rasa, logs["rasa"])
        yield Servers(f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook", database_url)
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@dataclass
class Chat:
    """One employee's conversation: every reply of every turn is kept."""

    url: str
    sender: str = field(default_factory=lambda: f"employee-{uuid.uuid4().hex[:12]}")
    turns: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)

    def say(self, message: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        payload: dict[str, Any] = {"sender": self.sender, "message": message}
        if metadata is not None:
            payload["metadata"] = metadata
        body = json.dumps(payload).encode("utf-8")
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            replies = json.loads(response.read().decode("utf-8"))
        self.turns.append((message, replies))
        return replies

    @property
    def state(self) -> dict[str, Any]:
        """custom.kasuhara after the last turn."""
        replies = self.turns[-1][1]
        return replies[-1]["custom"]["kasuhara"] if replies else {}

    @property
    def asking(self) -> str | None:
        return self.state.get("asking")

    def text(self, turn: int = -1) -> str:
        return "\n".join(reply.get("text") or "" for reply in self.turns[turn][1])

    def all_text(self) -> str:
        return "\n".join(self.text(index) for index in range(len(self.turns)))

    def buttons(self, turn: int = -1) -> list[dict[str, str]]:
        return [button for reply in self.turns[turn][1] for button in reply.get("buttons") or []]

    def askings(self) -> list[str | None]:
        return [replies[-1]["custom"]["kasuhara"].get("asking") if replies else None for _, replies in self.turns]

    def answer(self, answers: dict[str, str], until_verdict: bool = True, max_turns: int = 12) -> None:
        """Answer the questions as they come (`answers`: asking code -> message) until a verdict."""
        for _ in range(max_turns):
            asking = self.asking
            if asking is None or (until_verdict and self.state.get("verdict")):
                return
            self.say(answers.get(asking, "/dont_know"))
        raise AssertionError(f"still asking after {max_turns} answers: {self.askings()}")
