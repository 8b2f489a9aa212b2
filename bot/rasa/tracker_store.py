"""Rasa's SQL tracker store, which also hands over the slots of the tracker it has just saved.

The REST channel answers every turn with the conversation's state (`custom.kasuhara`,
bot/channels/payload.py). Reading it back from the store after the turn meant a second SQL read
and a replay of every event of the conversation — about 10 % of the Rasa server's CPU per turn
(bench/profile/2-lean-ginza-top-ours-8.md). This store keeps the slots of each tracker it saves
until the channel takes them, once; the channel reads the store as before when they are not there
(another store type, or a turn this server did not save).

endpoints.yml: `tracker_store: type: bot.rasa.tracker_store.SlotHandoverSQLTrackerStore` with the
options of Rasa's SQL store (dialect, url, db, …).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Dict, Optional, Text

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

HANDOVER_LIMIT = 1024  # conversations whose slots wait to be taken (a turn takes its own at once)


class SlotHandoverSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._saved_slots: "OrderedDict[Text, Dict[Text, Any]]" = OrderedDict()

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)
        self._saved_slots[tracker.sender_id] = tracker.current_slot_values()
        self._saved_slots.move_to_end(tracker.sender_id)
        while len(self._saved_slots) > HANDOVER_LIMIT:
            self._saved_slots.popitem(last=False)

    def take_saved_slots(self, sender_id: Text) -> Optional[Dict[Text, Any]]:
        """The slots of the tracker last saved for `sender_id` by this store, once (else None)."""
        return self._saved_slots.pop(sender_id, None)
