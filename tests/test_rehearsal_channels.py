"""The rehearsal mode on a real server: every scenario finished over the REST channel (one Rasa
server and one action server for the module, on free loopback ports), a case study and a drill
over REST, and one scenario in `rasa shell` driven through a pseudo-terminal.

Needs the trained model (make train); the training records go to a temporary SQLite database.
"""
from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from bot.rehearsal.scenarios import load_scenarios
from bot.settings import DEFAULT_REHEARSAL_SCENARIOS
from bot.training_records import TrainingStore
from tests.rehearsal_runs import GOOD_RUNS

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
MODEL = ROOT / "models" / "consultation.tar.gz"
STARTUP_SECONDS = 900  # model loading takes minutes on the shared 2-core machine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    end = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < end:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited: {log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(1)
    raise RuntimeError(f"{url} did not start in {STARTUP_SECONDS} s: {log.read_text(errors='replace')[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train`", pytrace=False)
    folder = tmp_path_factory.mktemp("rehearsal_servers")
    database_url = f"sqlite:///{folder / 'records.db'}"
    actions_port, rasa_port = free_port(), free_port()
    endpoints, shell_endpoints = folder / "endpoints.yml", folder / "shell-endpoints.yml"
    for path, tracker_db in ((endpoints, "tracker.db"), (shell_endpoints, "shell-tracker.db")):
        path.write_text(
            f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
            "tracker_store:\n  type: bot.rasa.tracker_store.SlotHandoverSQLTrackerStore\n"
            f'  dialect: "sqlite"\n  db: "{folder / tracker_db}"\n',
            encoding="utf-8",
        )
    env = {**os.environ, "DATABASE_URL": database_url, "SANIC_HOST": "127.0.0.1"}
    env.pop("REST_CHANNEL_TOKEN", None)
    actions_log = folder / "actions.log"
    actions = subprocess.Popen(
        [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(actions_port)],
        cwd=ROOT, env=env, stdout=actions_log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    rasa_log = folder / "rasa.log"
    rasa = subprocess.Popen(
        [str(BIN / "python"), "-m", "bot.rasa.server", "run", "--model", str(MODEL), "--endpoints", str(endpoints),
         "--credentials", "credentials.yml", "--port", str(rasa_port), "--interface", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=rasa_log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{actions_port}/health", actions, actions_log)
        wait_until_up(f"http://127.0.0.1:{rasa_port}/", rasa, rasa_log)
        yield {"rasa": f"http://127.0.0.1:{rasa_port}", "database_url": database_url, "shell_endpoints": shell_endpoints,
               "env": env, "folder": folder}
    finally:
        stop(rasa)
        stop(actions)


def say(servers, sender: str, text: str) -> list[dict]:
    request = urllib.request.Request(
        f"{servers['rasa']}/webhooks/rest/webhook", method="POST",
        data=json.dumps({"sender": sender, "message": text}).encode("utf-8"),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as answer:
        return json.loads(answer.read())


def texts(messages: list[dict]) -> list[str]:
    return [m.get("text") or "" for m in messages]


def records(servers, trainee: str) -> list[dict]:
    store = TrainingStore(servers["database_url"])
    try:
        return [r for r in store.list() if r["trainee"] == trainee]
    finally:
        store.dispose()


def consultations(servers) -> list[dict]:
    from bot.records import ConsultationStore
    store = ConsultationStore(servers["database_url"])
    try:
        return store.list()
    finally:
        store.dispose()


def test_the_help_offers_the_rehearsal_mode(servers):
    help_reply = say(servers, "help-reader", "/ask_help")
    buttons = [b for m in help_reply for b in m.get("buttons") or []]
    assert {"title": "研修モード", "payload": "/rehearsal_start"} in buttons


@pytest.mark.parametrize("scenario_id", sorted(GOOD_RUNS))
def test_a_trainee_finishes_each_scenario_over_rest(servers, scenario_id):
    sender = f"trainee-{scenario_id}"
    menu = say(servers, sender, "研修モード")
    assert texts(menu)[-1] == "【研修】研修モードです。練習の種類を選んでください。"
    assert [b["payload"] for b in menu[-1]["buttons"]][0] == "ロールプレイ"
    listing = say(servers, sender, "ロールプレイ")
    number = str(sorted(GOOD_RUNS).index(scenario_id) + 1)  # scenarios are listed in file-name order
    title = load_scenarios(DEFAULT_REHEARSAL_SCENARIOS)[scenario_id].title
    assert {"title": f"{number}. {title}", "payload": number} in listing[-1]["buttons"]
    opening = say(servers, sender, number)
    assert texts(opening)[-1].startswith("【ロールプレイ：お客様】")
    for reply in GOOD_RUNS[scenario_id]:
        answer = say(servers, sender, reply)
        assert answer and all(t.startswith(("【ロールプレイ：お客様】", "【研修】")) for t in texts(answer))
    sheet = next(t for t in texts(answer) if t.startswith("【研修】採点結果"))
    assert "総合評価：A" in sheet and "最後まで対応できました" in sheet
    [record] = records(servers, sender)
    assert (record["kind"], record["scenario"], record["grade"], record["source_channel"]) == (
        "roleplay", scenario_id, "A", "rest")
    left = say(servers, sender, "研修を終える")
    assert texts(left)[-1] == "【研修】研修モードを終えました。おつかれさまでした。"


def test_after_leaving_the_bot_is_the_consultation_bot_again_and_no_consultation_was_recorded(servers):
    sender = "trainee-then-employee"
    say(servers, sender, "研修モード")
    say(servers, sender, "ロールプレイ")
    say(servers, sender, "3")
    say(servers, sender, "うるさいですね！")
    left = say(servers, sender, "研修を終える")
    assert any(t.startswith("【研修】採点結果") and "途中で終了しました" in t for t in texts(left))
    assert [r["outcome"] for r in records(servers, sender)] == ["stopped"]
    assert [c for c in consultations(servers) if c["conversation_id"].startswith("trainee")] == []
    after = say(servers, sender, "窓口で1時間も怒鳴られています")
    assert not any(t.startswith(("【研修】", "【ロールプレイ")) for t in texts(after))
    assert [c["conversation_id"] for c in consultations(servers)].count(sender) == 1


def test_a_case_study_and_a_drill_over_rest(servers):
    sender = "trainee-casework"
    say(servers, sender, "研修モード")
    say(servers, sender, "事例検討")
    case = say(servers, sender, "10")
    assert "送付リストから漏れていた" in texts(case)[-1]
    assert [b["payload"] for b in case[-1]["buttons"]][:4] == ["正当なクレーム", "不当な要求（カスハラではない）", "カスハラ", "犯罪の可能性"]
    say(servers, sender, "正当なクレーム")
    feedback = say(servers, sender, "誠実に対応し、原因を改める")
    assert texts(feedback)[0].startswith("【研修】事例検討の結果：3/3 問正解")
    drill = say(servers, sender, "正当なクレームとの違い")
    assert "（1/10）" in texts(drill)[-1]
    for _ in range(10):
        last = say(servers, sender, "正当なクレーム")
    assert "【研修】ドリルの結果：10問中5問正解でした。" in texts(last)
    assert sorted(r["kind"] for r in records(servers, sender)) == ["case_study", "drill"]


class Terminal:
    """`rasa shell` in a pseudo-terminal: type lines, pick buttons with the arrow keys, read the screen."""

    ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

    def __init__(self, command: list[str], env: dict) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(command, cwd=ROOT, env={**env, "TERM": "xterm", "COLUMNS": "200"},
                                        stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
        os.close(slave)
        self.screen = ""

    def read_until(self, pattern: str, timeout: float = 120) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if re.search(pattern, self.ANSI.sub("", self.screen)):
                found = self.ANSI.sub("", self.screen)
                self.screen = ""
                return found
            ready, _, _ = select.select([self.master], [], [], 1)
            if ready:
                try:
                    self.screen += os.read(self.master, 65536).decode("utf-8", errors="replace")
                except OSError:
                    break
        raise AssertionError(f"timed out waiting for {pattern!r}; screen: {self.ANSI.sub('', self.screen)[-2000:]}")

    def type(self, text: str) -> None:
        os.write(self.master, text.encode("utf-8") + b"\r")

    def choose(self, index: int) -> None:
        """Pick the index-th button of the select prompt rasa shell shows."""
        os.write(self.master, b"\x1b[B" * index)
        time.sleep(0.3)
        os.write(self.master, b"\r")

    def close(self) -> None:
        stop(self.process)
        os.close(self.master)


def test_a_trainee_finishes_a_scenario_in_rasa_shell(servers):
    command = [str(BIN / "rasa"), "shell", "--model", str(MODEL), "--endpoints", str(servers["shell_endpoints"]),
               "--port", str(free_port())]
    terminal = Terminal(command, servers["env"])
    try:
        terminal.read_until(r"Your input ->", timeout=STARTUP_SECONDS)
        terminal.type("研修モード")
        terminal.read_until(r"研修モードです")
        terminal.choose(0)  # ロールプレイ
        terminal.read_until(r"シナリオを選んでください")
        terminal.choose(0)  # 1. 電話で同じ苦情が続く
        screen = terminal.read_until(r"Your input ->")
        assert "【ロールプレイ：お客様】おい、住民税" in screen
        for reply in GOOD_RUNS["01_time_restraint"][:-1]:
            terminal.type(reply)  # the prompt shows the typed line again: wait for the customer's answer
            terminal.read_until(r"【ロールプレイ：お客様】[\s\S]*Your input ->")
        terminal.type(GOOD_RUNS["01_time_restraint"][-1])
        screen = terminal.read_until(r"続けますか")
        assert "総合評価：A" in screen and "最後まで対応できました" in screen
        terminal.choose(2)  # 研修を終える
        terminal.read_until(r"研修モードを終えました")
    finally:
        terminal.close()
    shell_records = [r for r in TrainingStore(servers["database_url"]).list() if r["source_channel"] == "shell"]
    assert [(r["scenario"], r["grade"]) for r in shell_records] == [("01_time_restraint", "A")]
