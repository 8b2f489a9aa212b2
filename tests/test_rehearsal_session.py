"""The rehearsal mode as a conversation (bot/rehearsal/session.py): the menu, a role-play to its
score sheet, a case study and the drill end to end, stopping at any time."""
from __future__ import annotations

import pytest

from bot.assessment import assess
from bot.codes import Verdict
from bot.rehearsal import session
from bot.rehearsal.library import load_library
from bot.settings import DEFAULT_REHEARSAL_DRILLS, DEFAULT_REHEARSAL_SCENARIOS, load_phrases
from tests.rehearsal_runs import GOOD_RUNS


@pytest.fixture(scope="module")
def library():
    return load_library(DEFAULT_REHEARSAL_SCENARIOS, DEFAULT_REHEARSAL_DRILLS, load_phrases())


def converse(library, texts, pick=None):
    state, replies = None, []
    for text in texts:
        reply = session.respond(library, state, text, **({"pick": pick} if pick else {}))
        state = reply.state
        replies.append(reply)
    return state, replies


def texts(reply):
    return [message.text for message in reply.messages]


def test_the_menu_offers_every_exercise_and_a_way_out(library):
    reply = session.respond(library, None, "研修モード")
    assert reply.state == {"mode": "menu"}
    assert [title for title, _ in reply.messages[0].buttons] == ["ロールプレイ", "事例検討", "正当なクレームとの違い（ドリル）", "研修を終える"]


def test_a_role_play_picked_by_number_ends_with_a_score_sheet_and_a_result(library):
    state, replies = converse(library, ["研修モード", "ロールプレイ", "1", *GOOD_RUNS["01_time_restraint"]])
    picked = replies[1].messages[0].buttons
    assert len(picked) == len(library.scenarios) + 2 and picked[-2] == ("おまかせ", "おまかせ")
    assert texts(replies[2])[-1].startswith("【ロールプレイ：お客様】おい、住民税")
    last = replies[-1]
    assert any(text.startswith("【研修】採点結果") and "総合評価：A" in text for text in texts(last))
    assert state == {"mode": "after", "scenario": "01_time_restraint"}
    [result] = last.results
    assert (result["kind"], result["scenario"], result["grade"], result["outcome"]) == ("roleplay", "01_time_restraint", "A", "resolved")
    assert result["score"] == result["total"] == 6
    assert result["detail"]["moves"][0] == ["thanks", "limited_apology"]
    assert sum(len(r.results) for r in replies) == 1


def test_random_pick_and_again(library):
    state, replies = converse(library, ["研修モード", "ロールプレイ", "おまかせ"], pick=lambda ids: ids[-1])
    assert state["play"]["scenario"] == "12_mixed"
    state = session.respond(library, state, "研修を終える").state
    assert state is None


def test_stopping_a_role_play_scores_it_as_stopped_and_leaves_the_mode(library):
    state, replies = converse(library, ["研修モード", "ロールプレイ", "3", "お待たせしてしまい、申し訳ございません。", "研修を終える"])
    assert state is None
    [result] = replies[-1].results
    assert result["outcome"] == "stopped" and result["grade"] == "C" and result["score"] == 2  # calm_first, no_retort
    assert texts(replies[-1])[-1] == "【研修】研修モードを終えました。おつかれさまでした。"


def test_after_a_role_play_the_trainee_can_play_again(library):
    state, replies = converse(library, ["研修モード", "ロールプレイ", "1", *GOOD_RUNS["01_time_restraint"], "もう一度"])
    assert state["mode"] == "roleplay" and state["play"]["turn"] == 0
    assert texts(replies[-1])[-1].startswith("【ロールプレイ：お客様】おい、住民税")


def test_an_unclear_choice_repeats_the_buttons(library):
    state, replies = converse(library, ["研修モード", "なんでしょう"])
    assert state == {"mode": "menu"}
    assert texts(replies[-1]) == ["【研修】ボタンか番号で選んでください。"]
    assert replies[-1].messages[0].buttons == replies[0].messages[0].buttons


def test_a_case_study_is_compared_with_the_assessment_with_its_reasons(library):
    scenario = library.scenarios["07_offsite_restraint"]
    expected = assess(scenario.case.facts, scenario.time_limit_minutes)
    assert expected.verdict is Verdict.HARASSMENT
    state, replies = converse(library, ["研修モード", "事例検討", "7", "カスハラ", "時間拘束型", "安全を確保し、警察に通報・相談する"])
    assert scenario.case.text in texts(replies[2])[0]
    feedback = texts(replies[-1])[0]
    assert feedback.startswith("【研修】事例検討の結果：1/3 問正解")
    assert "○ 判断：あなた「カスタマーハラスメント」／ 判定「カスタマーハラスメント」" in feedback
    assert "× 類型：あなた「時間拘束型」／ 判定「店舗外拘束型」" in feedback
    assert "× 次の対応：あなた「安全を確保し、警察に通報・相談する」／ 判定「やめるよう求め、続けば対応を終える（上司・窓口に報告）」" in feedback
    for reason in expected.reasons:
        assert f"・{reason}" in feedback
    [result] = replies[-1].results
    assert result["kind"] == "case_study" and result["score"] == 1
    assert result["detail"]["answer"] == {"verdict": "harassment", "type": "time_restraint", "next_step": "police"}
    assert result["detail"]["expected_types"] == ["offsite_restraint"]
    assert state == {"mode": "menu"}


def test_a_legitimate_case_skips_the_type_question(library):
    state, replies = converse(library, ["研修モード", "事例検討", "10", "正当なクレーム", "誠実に対応し、原因を改める"])
    assert texts(replies[-2]) == ["【研修】次にどう対応しますか。"]
    assert texts(replies[-1])[0].startswith("【研修】事例検討の結果：3/3 問正解")
    assert "判定「該当なし」" in texts(replies[-1])[0]


def test_the_drill_runs_through_every_case_and_counts(library):
    drills = library.drills
    answers = ["正当なクレーム" if case.is_legitimate() else "正当とはいえない" for case in drills]
    answers[0] = "正当とはいえない"  # one wrong answer
    state, replies = converse(library, ["研修モード", "正当なクレームとの違い", *answers])
    assert texts(replies[1])[0].startswith(f"【研修】正当なクレームとの違い（1/{len(drills)}）\n{drills[0].text}")
    assert texts(replies[2])[0].startswith("【研修】× 不正解です。判定：「正当なクレーム」")
    assert texts(replies[3])[0].startswith("【研修】○ 正解です。")
    assert f"【研修】ドリルの結果：{len(drills)}問中{len(drills) - 1}問正解でした。" in texts(replies[-1])
    [result] = replies[-1].results
    assert (result["kind"], result["score"], result["total"]) == ("drill", len(drills) - 1, len(drills))
    assert [a["legitimate"] for a in result["detail"]["answers"]] == [case.is_legitimate() for case in drills]
    assert state == {"mode": "menu"}


def test_stop_words_only_leave_when_said_as_such(library):
    state, _ = converse(library, ["研修モード", "ロールプレイ", "1", "本日はこれで終了いたします。"])
    assert state["mode"] == "roleplay"  # a time-box inside the role-play, not leaving it
