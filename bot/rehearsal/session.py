"""The rehearsal mode as a conversation: the menu, picking a scenario, the role-play, the score
sheet, the case study and the drill. One call per trainee message; pure (the state is a plain
dict; what to store comes back as training results for the caller to save).

Buttons carry plain text as payload, so every channel (REST, web chat, Teams, Slack, rasa shell)
can send the same thing by tapping or typing; numbers are accepted for every list.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from bot.codes import HarassmentType, NextStep, Verdict
from bot.rehearsal import roleplay
from bot.rehearsal.casework import NO_TYPE, CaseAnswer, DrillCase, judge_case, render_case_feedback, render_drill_feedback
from bot.rehearsal.scenarios import Scenario
from bot.rehearsal.tokens import normalise_text

State = dict[str, Any]
Button = tuple[str, str]  # title, payload

STOP_WORDS = frozenset({"研修を終える", "研修をやめる", "研修終了", "研修モードを終える", "/rehearsal_stop"})
ROLEPLAY, CASE_STUDY, DRILL = "ロールプレイ", "事例検討", "正当なクレームとの違い"
RANDOM = "おまかせ"
AGAIN, OTHER = "もう一度", "メニュー"
STOP_BUTTON: Button = ("研修を終える", "研修を終える")
VERDICT_CHOICES: tuple[tuple[str, Verdict], ...] = (
    ("正当なクレーム", Verdict.LEGITIMATE),
    ("不当な要求（カスハラではない）", Verdict.UNREASONABLE_REQUEST),
    ("カスハラ", Verdict.HARASSMENT),
    ("犯罪の可能性", Verdict.CRIMINAL),
)
TYPE_CHOICES: tuple[tuple[str, str], ...] = (
    *((kind.label, kind.value) for kind in HarassmentType), ("該当なし", NO_TYPE),
)
STEP_CHOICES: tuple[tuple[str, NextStep], ...] = tuple((step.label, step) for step in NextStep)
DRILL_CHOICES: tuple[tuple[str, bool], ...] = (("正当なクレーム", True), ("正当とはいえない", False))


@dataclass
class Message:
    text: str
    buttons: list[Button] = field(default_factory=list)


@dataclass
class Reply:
    state: State | None  # None: the rehearsal mode is over
    messages: list[Message]
    results: list[dict] = field(default_factory=list)  # training results to store


@dataclass(frozen=True)
class Library:
    scenarios: dict[str, Scenario]
    drills: tuple[DrillCase, ...]
    phrase: roleplay.PhraseLookup


def _numbered(titles: Sequence[str]) -> list[Button]:
    return [(f"{number}. {title}", str(number)) for number, title in enumerate(titles, start=1)]


def _choice(text: str, options: Sequence[tuple[str, Any]]) -> Any | None:
    """The option whose title (or number, or "N. title") the text is; None if none."""
    cleaned = normalise_text(text)
    for number, (title, value) in enumerate(options, start=1):
        if cleaned in (normalise_text(title), str(number), f"{number}. {normalise_text(title)}"):
            return value
    return None


def _menu(note: str = "") -> Reply:
    text = (note + "\n" if note else "") + "【研修】研修モードです。練習の種類を選んでください。"
    buttons = [(ROLEPLAY, ROLEPLAY), (CASE_STUDY, CASE_STUDY), (f"{DRILL}（ドリル）", DRILL), STOP_BUTTON]
    return Reply({"mode": "menu"}, [Message(text, buttons)])


def begin() -> Reply:
    return _menu()


def _pick(library: Library, purpose: str) -> Reply:
    titles = [s.title for s in library.scenarios.values()]
    text = "【研修】シナリオを選んでください（番号でも選べます）。" if purpose == ROLEPLAY else "【研修】検討する事例を選んでください（番号でも選べます）。"
    return Reply({"mode": "pick", "purpose": purpose},
                 [Message(text, [*_numbered(titles), (RANDOM, RANDOM), STOP_BUTTON])])


def _start_roleplay(scenario: Scenario) -> Reply:
    state, lines = roleplay.start(scenario)
    return Reply({"mode": "roleplay", "play": state}, [Message(line) for line in lines])


def _end_roleplay(library: Library, scenario: Scenario, play: State, leave: bool) -> Reply:
    sheet = roleplay.score(scenario, play, library.phrase)
    result = {"kind": "roleplay", "scenario": scenario.id, "grade": sheet.grade.value, "score": sheet.passed,
              "total": len(sheet.items), "outcome": sheet.outcome, "detail": {**sheet.to_dict(), "moves": play["moves"]}}
    sheet_message = Message(roleplay.render_score(sheet))
    if leave:
        return Reply(None, [sheet_message, Message("【研修】研修モードを終えました。おつかれさまでした。")], [result])
    buttons = [(AGAIN, AGAIN), (OTHER, OTHER), STOP_BUTTON]
    return Reply({"mode": "after", "scenario": scenario.id}, [sheet_message, Message("【研修】続けますか。", buttons)], [result])


def _start_case(scenario: Scenario) -> Reply:
    text = f"【研修】事例検討：「{scenario.title}」\n{scenario.case.text}\n\nこの事例は、どれにあたると思いますか。"
    return Reply({"mode": "case_verdict", "scenario": scenario.id},
                 [Message(text, [*[(title, title) for title, _ in VERDICT_CHOICES], STOP_BUTTON])])


def _ask_step(state: State) -> Reply:
    return Reply({**state, "mode": "case_step"},
                 [Message("【研修】次にどう対応しますか。", [*[(title, title) for title, _ in STEP_CHOICES], STOP_BUTTON])])


def _drill_question(library: Library, index: int, correct: int, prefix: list[Message]) -> Reply:
    case = library.drills[index]
    text = f"【研修】正当なクレームとの違い（{index + 1}/{len(library.drills)}）\n{case.text}\n\n正当なクレームでしょうか。"
    return Reply({"mode": "drill", "index": index, "correct": correct},
                 [*prefix, Message(text, [*[(title, title) for title, _ in DRILL_CHOICES], STOP_BUTTON])])


def _unclear(state: State, message: Message) -> Reply:
    return Reply(state, [Message("【研修】ボタンか番号で選んでください。", message.buttons)])


def respond(library: Library, state: State | None, text: str,
            pick: Callable[[Sequence[str]], str] = random.choice) -> Reply:
    """The reply to one trainee message in the rehearsal mode (state None: just started)."""
    if state is None:
        return begin()
    mode = state.get("mode")
    if normalise_text(text) in STOP_WORDS:
        if mode == "roleplay":
            play = state["play"]
            return _end_roleplay(library, library.scenarios[play["scenario"]], roleplay.stop(play), leave=True)
        return Reply(None, [Message("【研修】研修モードを終えました。おつかれさまでした。")])
    if mode == "roleplay":
        play = state["play"]
        scenario = library.scenarios[play["scenario"]]
        turn = roleplay.take_turn(scenario, play, text)
        reply = Reply({"mode": "roleplay", "play": turn.state}, [Message(line) for line in turn.lines])
        if turn.finished:
            end = _end_roleplay(library, scenario, turn.state, leave=False)
            return Reply(end.state, [*reply.messages, *end.messages], end.results)
        return reply
    if mode == "menu":
        chosen = _choice(text, [(ROLEPLAY, ROLEPLAY), (CASE_STUDY, CASE_STUDY), (DRILL, DRILL), (f"{DRILL}（ドリル）", DRILL)])
        if chosen == DRILL:
            return _drill_question(library, 0, 0, [])
        if chosen in (ROLEPLAY, CASE_STUDY):
            return _pick(library, chosen)
        return _unclear(state, _menu().messages[0])
    if mode == "pick":
        ids = list(library.scenarios)
        chosen = _choice(text, [(s.title, s.id) for s in library.scenarios.values()])
        if chosen is None and _choice(text, [(RANDOM, RANDOM)]):
            chosen = pick(ids)
        if chosen is None:
            return _unclear(state, _pick(library, state["purpose"]).messages[0])
        scenario = library.scenarios[chosen]
        return _start_roleplay(scenario) if state["purpose"] == ROLEPLAY else _start_case(scenario)
    if mode == "after":
        chosen = _choice(text, [(AGAIN, AGAIN), (OTHER, OTHER)])
        if chosen == AGAIN:
            return _start_roleplay(library.scenarios[state["scenario"]])
        if chosen == OTHER:
            return _menu()
        return _unclear(state, Message("", [(AGAIN, AGAIN), (OTHER, OTHER), STOP_BUTTON]))
    if mode == "case_verdict":
        verdict = _choice(text, VERDICT_CHOICES)
        if verdict is None:
            return _unclear(state, _start_case(library.scenarios[state["scenario"]]).messages[0])
        state = {**state, "verdict": verdict.value}
        if verdict in (Verdict.HARASSMENT, Verdict.CRIMINAL):
            return Reply({**state, "mode": "case_type"},
                         [Message("【研修】どの類型にあたりますか。", [*[(title, title) for title, _ in TYPE_CHOICES], STOP_BUTTON])])
        return _ask_step({**state, "type": NO_TYPE})
    if mode == "case_type":
        kind = _choice(text, TYPE_CHOICES)
        if kind is None:
            return _unclear(state, Message("", [*[(title, title) for title, _ in TYPE_CHOICES], STOP_BUTTON]))
        return _ask_step({**state, "type": kind})
    if mode == "case_step":
        step = _choice(text, STEP_CHOICES)
        if step is None:
            return _ask_step(state)
        scenario = library.scenarios[state["scenario"]]
        answer = CaseAnswer(Verdict(state["verdict"]), state["type"], step)
        feedback = judge_case(scenario.case, answer, scenario.time_limit_minutes)
        result = {"kind": "case_study", "scenario": scenario.id, "grade": None, "score": feedback.correct, "total": 3,
                  "outcome": "answered", "detail": {"answer": {"verdict": answer.verdict.value, "type": answer.type,
                                                               "next_step": step.value}, **feedback.to_dict()}}
        return Reply({"mode": "menu"}, [Message(render_case_feedback(feedback, answer)), *_menu().messages], [result])
    if mode == "drill":
        said = _choice(text, DRILL_CHOICES)
        if said is None:
            return _unclear(state, Message("", [*[(title, title) for title, _ in DRILL_CHOICES], STOP_BUTTON]))
        index = state["index"]
        case = library.drills[index]
        correct = state["correct"] + (said == case.is_legitimate())
        answers = [*state.get("answers", []), {"case": case.id, "said_legitimate": said, "legitimate": case.is_legitimate()}]
        feedback = Message(render_drill_feedback(case, said))
        if index + 1 < len(library.drills):
            reply = _drill_question(library, index + 1, correct, [feedback])
            reply.state["answers"] = answers
            return reply
        total = len(library.drills)
        result = {"kind": "drill", "scenario": None, "grade": None, "score": correct, "total": total,
                  "outcome": "answered", "detail": {"answers": answers}}
        summary = Message(f"【研修】ドリルの結果：{total}問中{correct}問正解でした。")
        return Reply({"mode": "menu"}, [feedback, summary, *_menu().messages], [result])
    return _menu()
