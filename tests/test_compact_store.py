"""bot/rasa/compact_store.py: a tracker of bounded size per turn, the same state and predictions as
Rasa's full replay, every event stored once; on SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
import json
import warnings
from typing import List

import pytest
import sqlalchemy as sa
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import make_url

from bot.rasa.compact_store import FOLD_TURNS, KEEP_TURNS, CompactingSQLTrackerStore, history_start
from bot.settings import PROJECT_ROOT

MODEL = PROJECT_ROOT / "models" / "consultation.tar.gz"


def small_domain() -> Domain:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning)
        return Domain.from_dict(
            {
                "intents": ["chat", "report", "inform", "ask"],
                "slots": {
                    "turn": {"type": "any", "mappings": [{"type": "custom"}]},
                    "stage": {"type": "categorical", "values": ["start", "facts"], "mappings": [{"type": "custom"}]},
                    "place": {"type": "text", "mappings": [{"type": "custom"}]},
                },
                "forms": {"facts_form": {"required_slots": ["place"]}},
                "responses": {"utter_ok": [{"text": "はい"}], "utter_answer": [{"text": "お答えします"}]},
                "actions": ["action_note"],
            }
        )


def store_for(url: str, domain: Domain, **kwargs) -> CompactingSQLTrackerStore:
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        return CompactingSQLTrackerStore(domain, dialect="sqlite", db=parsed.database, **kwargs)
    return CompactingSQLTrackerStore(
        domain, dialect="postgresql", host=parsed.host, port=parsed.port, db=parsed.database,
        username=parsed.username, password=parsed.password, query=dict(parsed.query), **kwargs,
    )


def turn_events(number: int) -> List[Event]:
    """One employee turn of a varied conversation: chat, a form's happy and unhappy paths, a revert."""
    events: List[Event] = [
        UserUttered(f"発言{number}", {"name": "chat" if number % 7 else "report", "confidence": 1.0}),
        SlotSet("turn", number),
    ]
    phase = number % 30
    if phase == 3:  # the form starts
        events += [ActionExecuted("facts_form"), ActiveLoop("facts_form"), SlotSet("requested_slot", "place")]
    elif 3 < phase < 20 and phase % 3:  # happy path: the form's turns are collapsed by applied_events()
        events += [ActionExecuted("facts_form"), SlotSet("place", f"場所{number}")]
    elif 3 < phase < 20:  # the form declines the turn; a rule answers; the form asks again
        events += [
            ActionExecutionRejected("facts_form"), ActionExecuted("utter_answer"), BotUttered("お答えします"),
            ActionExecuted("facts_form"),
        ]
    elif phase == 20:  # the form is done
        events += [
            ActionExecuted("facts_form"), SlotSet("place", "窓口"), ActiveLoop(None), SlotSet("requested_slot", None),
            ActionExecuted("action_note"), SlotSet("stage", "facts"),
        ]
    elif phase == 25:  # a message taken back
        events += [UserUtteranceReverted()]
        return [*events, ActionExecuted(ACTION_LISTEN_NAME)]
    else:
        events += [ActionExecuted("utter_ok"), BotUttered("はい")]
    return [*events, ActionExecuted(ACTION_LISTEN_NAME)]


def session_start() -> List[Event]:
    return [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted(), ActionExecuted(ACTION_LISTEN_NAME)]


async def play(stores, sender: str, turns: range, reference: DialogueStateTracker, domain: Domain, check=None) -> None:
    """Each turn as Rasa's processor does it: retrieve, add the turn's events, save."""
    for number in turns:
        store = stores[number % len(stores)]
        tracker = await store.get_or_create_tracker(sender, append_action_listen=False)
        if check is not None:
            check(tracker, reference)
        new = session_start() if not tracker.events else []
        new += turn_events(number)
        for event in new:
            tracker.update(event, domain)
            reference.update(event, domain)
        await store.save(tracker)


def assert_same_state(
    compact: DialogueStateTracker, full: DialogueStateTracker, domain: Domain, states: int = 2 * KEEP_TURNS
) -> None:
    assert compact.current_slot_values() == full.current_slot_values()
    assert compact.active_loop_name == full.active_loop_name
    assert compact.is_active_loop_rejected == full.is_active_loop_rejected
    assert compact.latest_message.parse_data == full.latest_message.parse_data
    assert compact.latest_action == full.latest_action
    assert compact.latest_bot_utterance == full.latest_bot_utterance
    # what the policies read: the states before each action, the latest ones
    assert compact.past_states(domain)[-states:] == full.past_states(domain)[-states:]


def stored_events(store: CompactingSQLTrackerStore, sender: str) -> list:
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT data FROM events WHERE sender_id = :sender ORDER BY id"), {"sender": sender}
        ).all()
    return [json.loads(row.data) for row in rows]


def dispose(*stores) -> None:
    for store in stores:
        store.engine.dispose()


def test_a_long_conversation_is_retrieved_short_with_the_state_of_a_full_replay(database_url):
    domain = small_domain()
    store = store_for(database_url, domain)
    reference = DialogueStateTracker("employee-1", domain.slots)
    sizes = []

    def check(tracker, full):
        if full.events:
            assert_same_state(tracker, full, domain)
        sizes.append(len(tracker.events))

    try:
        asyncio.run(play([store], "employee-1", range(300), reference, domain, check))
        compact = asyncio.run(store.retrieve("employee-1"))
        assert_same_state(compact, reference, domain)
        # bounded: the synthetic state, KEEP_TURNS turns of history, at most FOLD_TURNS + 1 stored turns
        most = max(sizes[100:])
        assert most <= 12 * (KEEP_TURNS + FOLD_TURNS + 1) and most < len(reference.events) / 10
        assert [event["event"] for event in stored_events(store, "employee-1")] == [
            event.as_dict()["event"] for event in reference.events
        ]
        assert stored_events(store, "employee-1") == [event.as_dict() for event in reference.events]  # once, in order
        full = asyncio.run(store.retrieve_full_tracker("employee-1"))
        assert [e.as_dict() for e in full.events] == [e.as_dict() for e in reference.events]
    finally:
        dispose(store)


def test_another_server_continues_the_conversation(database_url):
    domain = small_domain()
    first, second = store_for(database_url, domain), store_for(database_url, domain)
    reference = DialogueStateTracker("employee-2", domain.slots)
    try:
        asyncio.run(
            play([first, second], "employee-2", range(60), reference, domain,
                 lambda tracker, full: full.events and assert_same_state(tracker, full, domain))
        )
        assert stored_events(second, "employee-2") == [event.as_dict() for event in reference.events]
        assert_same_state(asyncio.run(first.retrieve("employee-2")), reference, domain)
    finally:
        dispose(first, second)


def test_a_new_session_after_the_boundary_starts_from_scratch(tmp_path):
    domain = small_domain()
    store = store_for(f"sqlite:///{tmp_path / 'tracker.db'}", domain)
    reference = DialogueStateTracker("employee-3", domain.slots)
    asyncio.run(play([store], "employee-3", range(40), reference, domain))

    async def new_session() -> None:
        tracker = await store.retrieve("employee-3")
        for event in [*session_start(), *turn_events(1)]:
            tracker.update(event, domain)
            reference.update(event, domain)
        await store.save(tracker)

    asyncio.run(new_session())
    compact = asyncio.run(store.retrieve("employee-3"))
    assert_same_state(compact, reference, domain)
    assert compact.get_slot("stage") is None and compact.get_slot("turn") == 1
    asyncio.run(play([store], "employee-3", range(2, 40), reference, domain))
    assert_same_state(asyncio.run(store.retrieve("employee-3")), reference, domain)
    assert stored_events(store, "employee-3") == [event.as_dict() for event in reference.events]


def test_a_copy_of_the_tracker_and_a_second_save_store_nothing_twice(tmp_path):
    domain = small_domain()
    store = store_for(f"sqlite:///{tmp_path / 'tracker.db'}", domain)
    reference = DialogueStateTracker("employee-4", domain.slots)
    asyncio.run(play([store], "employee-4", range(30), reference, domain))

    async def turn_saved_twice_from_a_copy() -> None:
        tracker = (await store.retrieve("employee-4")).copy()
        for event in turn_events(30)[:2]:
            tracker.update(event, domain)
            reference.update(event, domain)
        await store.save(tracker)  # Rasa saves after the message is logged ...
        for event in turn_events(30)[2:]:
            tracker.update(event, domain)
            reference.update(event, domain)
        await store.save(tracker)  # ... and after the actions
        await store.save(tracker)

    asyncio.run(turn_saved_twice_from_a_copy())
    assert stored_events(store, "employee-4") == [event.as_dict() for event in reference.events]


def test_history_starts_at_a_listen_before_the_kept_turns():
    events = [*session_start()[2:], *turn_events(1), *turn_events(2), *turn_events(3)]
    start = history_start(events, 2)
    assert events[start] == ActionExecuted(ACTION_LISTEN_NAME) and isinstance(events[start + 1], UserUttered)
    assert sum(isinstance(event, UserUttered) for event in events[start:]) == 2
    assert history_start(events, 10) == 0


def test_the_endpoints_files_name_this_store():
    import yaml

    for name in ("endpoints.yml", "endpoints.production.yml"):
        endpoints = yaml.safe_load((PROJECT_ROOT / name).read_text(encoding="utf-8"))
        assert endpoints["tracker_store"]["type"] == "bot.rasa.compact_store.CompactingSQLTrackerStore", name


# --- the trained policies predict the same on compact and full trackers -------------------------------


@pytest.mark.skipif(not MODEL.exists(), reason="no trained model (make train)")
def test_the_policies_predict_the_same_on_compact_and_full_trackers(tmp_path):
    """Every action of the story tests' conversations, predicted from the tracker as the store hands it
    out after each turn (folded every turn, keeping only 3 turns: harder than the defaults)."""
    from rasa.core.agent import Agent
    from rasa.core.test import _create_data_generator

    agent = Agent.load(str(MODEL))
    domain = agent.domain
    store = CompactingSQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "tracker.db"), keep_turns=3, fold_turns=1)
    stories = _create_data_generator(str(PROJECT_ROOT / "tests" / "stories"), agent, use_conversation_test_files=True)
    compared = compacted = 0

    async def predict(tracker: DialogueStateTracker) -> str:
        prediction = agent.processor._predict_next_with_tracker(tracker.copy())  # noqa: SLF001
        return domain.action_names_or_texts[prediction.max_confidence_index]

    async def run() -> None:
        nonlocal compared, compacted
        for number, story in enumerate(stories.generate_story_trackers()):
            sender, full = f"story-{number}", DialogueStateTracker(f"story-{number}", domain.slots)
            for event in story.events:
                if isinstance(event, ActionExecuted) and full.events and event.action_name != ACTION_LISTEN_NAME:
                    compact = await store.retrieve(sender)
                    compacted += len(compact.events) < len(full.events)
                    assert_same_state(compact, full, domain, states=4)  # max_history
                    assert await predict(compact) == await predict(full), (story.sender_id, event)
                    compared += 1
                tracker = await store.get_or_create_tracker(sender, append_action_listen=False)
                tracker.update(event, domain)
                full.update(event, domain)
                await store.save(tracker)

    try:
        asyncio.run(run())
    finally:
        store.engine.dispose()
    assert compared > 100 and compacted > compared / 3


def test_a_sender_the_database_refuses_fails_that_request_only(tmp_path):
    from tests.channel_stand_ins import kasuhara_domain
    from tests.test_tracker_store import _refused_without_exit

    store = CompactingSQLTrackerStore(kasuhara_domain(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    _refused_without_exit(store, "\udfff")  # as bot/rasa/tracker_store.py's store
