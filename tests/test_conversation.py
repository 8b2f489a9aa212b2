"""Slots in, facts and slot changes out: what one employee message does to the consultation."""
from __future__ import annotations

from bot.codes import Behavior, SituationChannel
from bot.conversation import (
    UNKNOWN,
    elapsed_minutes_now,
    facts_from_slots,
    record_fields,
    slot_changes_from_message,
    time_status,
)

NOW = 1_800_000_000.0


def behavior(code):
    return {"entity": "behavior", "value": code}


def test_several_behaviours_a_channel_and_a_duration_in_one_message():
    changes = slot_changes_from_message(
        {}, "窓口で１時間半も怒鳴られ、土下座しろと言われた", "report_incident",
        [{"entity": "channel", "value": "counter"}, behavior("intimidation"), behavior("dogeza_demand")], NOW)
    assert changes == {"behaviors": ["intimidation", "dogeza_demand"], "situation_channel": "counter",
                       "elapsed_minutes": 90}


def test_behaviours_accumulate_and_repeat_mentions_change_nothing():
    slots = {"behaviors": ["intimidation"]}
    assert slot_changes_from_message(slots, "また怒鳴った", "report_incident", [behavior("intimidation")], NOW) == {}
    changes = slot_changes_from_message(slots, "市長を出せと", "report_incident", [behavior("authority_pressure")], NOW)
    assert changes["behaviors"] == ["intimidation", "authority_pressure"]


def test_values_that_are_not_codes_are_ignored():
    changes = slot_changes_from_message({}, "何か", "report_incident",
                                        [behavior("怒鳴り散らす"), {"entity": "channel", "value": "fax"}], NOW)
    assert changes == {}


def test_a_known_channel_is_not_overwritten():
    changes = slot_changes_from_message({"situation_channel": "phone"}, "窓口にも来た", "report_incident",
                                        [{"entity": "channel", "value": "counter"}], NOW)
    assert "situation_channel" not in changes


def test_a_new_duration_restarts_the_live_clock():
    changes = slot_changes_from_message({"ongoing": True, "case_started_at": NOW - 60}, "もう40分です",
                                        "inform", [], NOW)
    assert changes == {"elapsed_minutes": 40, "case_started_at": NOW - 40 * 60}


def test_a_live_case_starts_its_clock_from_the_reported_duration():
    changes = slot_changes_from_message({"ongoing": True, "elapsed_minutes": 25}, "/affirm", "affirm", [], NOW)
    assert changes == {"case_started_at": NOW - 25 * 60}


def test_criminal_conduct_in_a_live_case_is_danger_but_not_after_the_fact():
    live = slot_changes_from_message({"ongoing": True}, "殴られた", "report_incident",
                                     [behavior("physical_attack")], NOW)
    after = slot_changes_from_message({"ongoing": False}, "先週殴られた", "report_incident",
                                      [behavior("physical_attack")], NOW)
    assert live["danger"] is True
    assert "danger" not in after


def test_emergency_means_a_live_case_in_danger():
    changes = slot_changes_from_message({}, "助けて", "emergency", [], NOW)
    assert changes["danger"] is True and changes["ongoing"] is True and changes["case_started_at"] == NOW


def test_asked_to_leave_and_still_there():
    changes = slot_changes_from_message({}, "帰ってくださいと言ったのに居座っています", "report_incident", [], NOW)
    assert changes.get("refused_to_leave") is True


def test_dont_know_answers_count_as_unknown_facts():
    slots = {"behaviors": ["verbal_abuse"], "our_fault": UNKNOWN, "demand_related": False,
             "situation_channel": UNKNOWN, "ongoing": UNKNOWN, "elapsed_minutes": UNKNOWN}
    facts = facts_from_slots(slots, NOW)
    assert facts.behaviors == frozenset({Behavior.VERBAL_ABUSE})
    assert facts.our_fault is None and facts.demand_related is False
    assert facts.channel is None and facts.ongoing is False and facts.elapsed_minutes is None


def test_live_elapsed_time_runs_on_from_the_start():
    slots = {"ongoing": True, "case_started_at": NOW - 31 * 60, "situation_channel": "phone"}
    assert elapsed_minutes_now(slots, NOW) == 31
    assert facts_from_slots(slots, NOW).channel == SituationChannel.PHONE


def test_time_status_near_and_over_the_limit():
    slots = {"ongoing": True, "case_started_at": NOW - 26 * 60}
    near = time_status(slots, NOW, limit=30, warn_before=5)
    assert near.near and not near.over and near.remaining_minutes == 4
    assert time_status({**slots, "case_started_at": NOW - 30 * 60}, NOW, 30, 5).over
    assert not time_status({**slots, "case_started_at": NOW - 10 * 60}, NOW, 30, 5).near
    assert time_status({"ongoing": False, "elapsed_minutes": 90}, NOW, 30, 5) is None


def test_record_fields_leave_unknown_answers_empty():
    fields = record_fields({"demand": UNKNOWN, "identified": UNKNOWN, "alone": True, "behaviors": None}, NOW)
    assert fields["demand"] is None and fields["identified"] is None and fields["alone"] is True
    assert fields["behaviors"] == []
