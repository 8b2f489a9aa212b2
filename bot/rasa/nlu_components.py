"""Custom Rasa 3 graph components for the Japanese NLU.

``BehaviorCodeNormalizer`` runs after ``EntitySynonymMapper`` and guarantees that every
``behavior`` / ``channel`` entity value is a code of :mod:`bot.codes`:

1. a DIET entity is given the code of the lexicon match it overlaps (the lexicon sees
   the context: 「机を叩い」 is intimidation, 「頭を叩か」 an assault), else the code its
   (synonym-mapped) value already is, else the code the lexicon gives for its value or
   its text span; an entity that overlaps only a *negated* mention
   (「殴られてはいない」), lies inside a phrase that names no behaviour
   (「何度も言ってくる」「議員の名前を出して」, see ``lexicon.non_behavior_spans``) or maps
   to nothing is dropped; so is an entity that is not the customer's conduct toward staff
   (a hypothetical, a quoted prohibition 「クマを殺すな」, a victim's complaint, the employee's
   own act: ``bot.conduct``), whether the lexicon or the model found it;
2. duplicate codes in one message are dropped (first mention kept), and so is an apology
   demand that is part of a kneeling demand next to it (「頭を床につけて謝れ」);
3. with ``add_lexicon_hits: true`` (default) the lexicon's own non-negated hits that DIET
   missed are added, marked ``extractor: BehaviorCodeNormalizer``, only where they are the
   customer's conduct (the lexicon suggests; it never turns a report into a crime on its
   own); a channel is only added
   when no channel entity exists. Not for the intents in ``no_lexicon_hits_for_intents``
   (questions mention behaviours hypothetically).

Configuration (config.yml): ``add_lexicon_hits`` (bool), ``add_lexicon_channels`` (bool),
``no_lexicon_hits_for_intents`` (list of intent names).
"""
from __future__ import annotations

import random
import re

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import lexicon
from bot.codes import Behavior, SituationChannel
from bot.text_facts import read_facts
from bot.urgency import danger_is_now

BEHAVIOR_ENTITY = "behavior"
CHANNEL_ENTITY = "channel"
_BEHAVIOR_CODES = frozenset(b.value for b in Behavior)
_WORDLIKE = re.compile(r"[0-9A-Za-zぁ-んァ-ヶ一-龥々ー０-９Ａ-Ｚａ-ｚ]")

_KINDS = {
    BEHAVIOR_ENTITY: (Behavior, lexicon.find_behaviors, lexicon.behavior_code),
    CHANNEL_ENTITY: (SituationChannel, lexicon.find_channels, lexicon.channel_code),
}


def _overlaps(entity: Dict[Text, Any], match: lexicon.LexiconMatch) -> bool:
    start, end = entity.get("start"), entity.get("end")
    if start is None or end is None:
        return False
    return match.start < end and start < match.end


def _without_apology_inside_dogeza(entities: List[Dict[Text, Any]]) -> List[Dict[Text, Any]]:
    """「頭を床につけて謝れ」 is one demand, to kneel: the apology next to it is part of it."""
    kneel = [e for e in entities if e.get("entity") == BEHAVIOR_ENTITY and e.get("value") == Behavior.DOGEZA_DEMAND.value]

    def part_of_kneeling(entity: Dict[Text, Any]) -> bool:
        start, end = entity.get("start"), entity.get("end")
        return isinstance(start, int) and isinstance(end, int) and any(
            isinstance(k.get("start"), int) and start < k["end"] + 3 and k["start"] < end + 3 for k in kneel
        )

    return [
        e for e in entities
        if not (e.get("entity") == BEHAVIOR_ENTITY and e.get("value") == Behavior.APOLOGY_DEMAND.value and part_of_kneeling(e))
    ]


class _UntrainedComponent(GraphComponent):
    """A component with a configuration and nothing learnt: the defaults merged with config.yml."""

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._config = {**self.get_default_config(), **(config or {})}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "_UntrainedComponent":
        return cls(config)

    # Rasa calls this for training data only when a component needs it (training annotations
    # are already codes).
    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class BehaviorCodeNormalizer(_UntrainedComponent, EntityExtractorMixin):
    """Makes behaviour/channel entity values codes; adds lexicon hits DIET missed."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "add_lexicon_hits": True,
            "add_lexicon_channels": True,
            # Questions mention behaviours hypothetically (「慰謝料の要求って応じる必要ある？」):
            # only what the model itself found is kept there.
            "no_lexicon_hits_for_intents": [
                "ask_initial_response",
                "ask_judgement",
                "ask_time_limit",
                "ask_escalation",
                "ask_help",
                "out_of_scope",
            ],
        }

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY) if isinstance(message.get(INTENT), dict) else None
            entities = self.normalise_entities(message.get(TEXT) or "", message.get(ENTITIES, []) or [], intent)
            message.set(ENTITIES, entities, add_to_output=True)
        return messages

    # The logic, usable without a Message (benchmarks, tests).
    def normalise_entities(
        self, text: str, entities: List[Dict[Text, Any]], intent: Optional[str] = None
    ) -> List[Dict[Text, Any]]:
        matches = {kind: find(text) for kind, (_, find, _) in _KINDS.items()}
        vetoed = lexicon.non_behavior_spans(text)
        result: List[Dict[Text, Any]] = []
        seen: set[tuple[str, str]] = set()
        for entity in entities:
            kind = entity.get("entity")
            if kind not in _KINDS:
                result.append(entity)
                continue
            if kind == BEHAVIOR_ENTITY and (self._inside_any(entity, vetoed) or self._not_conduct(text, entity)):
                continue
            code = self._code_for(text, entity, kind, matches[kind])
            if code == Behavior.PERSISTENT.value and kind == BEHAVIOR_ENTITY and not any(
                m.code == code and m.counts for m in matches[kind]
            ):
                # 「何度も食事に誘われる」: the frequency belongs to another behaviour.
                surface = text[entity.get("start", 0) : entity.get("end", 0)]
                if lexicon.is_frequency_only(surface):
                    continue
            if code is None or (kind, code) in seen:
                continue
            seen.add((kind, code))
            normalised = dict(entity)
            normalised["value"] = code
            result.append(self.add_processor_name(normalised))

        lexicon_allowed = intent not in set(self._config.get("no_lexicon_hits_for_intents") or [])
        if lexicon_allowed and self._config.get("add_lexicon_hits", True):
            for match in matches[BEHAVIOR_ENTITY]:
                if not match.counts or (BEHAVIOR_ENTITY, match.code) in seen:
                    continue
                seen.add((BEHAVIOR_ENTITY, match.code))
                result.append(self._lexicon_entity(BEHAVIOR_ENTITY, match))
        result = _without_apology_inside_dogeza(result)
        if lexicon_allowed and self._config.get("add_lexicon_channels", True):
            if not any(kind == CHANNEL_ENTITY for kind, _ in seen):
                for match in matches[CHANNEL_ENTITY]:
                    if match.counts:
                        seen.add((CHANNEL_ENTITY, match.code))
                        result.append(self._lexicon_entity(CHANNEL_ENTITY, match))
                        break
        return result

    @staticmethod
    def _not_conduct(text: str, entity: Dict[Text, Any]) -> bool:
        start, end = entity.get("start"), entity.get("end")
        if not isinstance(start, int) or not isinstance(end, int):
            return False
        value = str(entity.get("value", "") or "")
        code = value if value in {b.value for b in Behavior} else None
        return lexicon.span_not_conduct(text, start, end, code) is not None

    @staticmethod
    def _inside_any(entity: Dict[Text, Any], spans: List[tuple]) -> bool:
        start, end = entity.get("start"), entity.get("end")
        if not isinstance(start, int) or not isinstance(end, int):
            return False
        return any(s <= start and end <= e for s, e in spans)

    @staticmethod
    def _code_for(
        text: str, entity: Dict[Text, Any], kind: str, matches: List[lexicon.LexiconMatch]
    ) -> Optional[str]:
        enum, _, to_code = _KINDS[kind]
        overlapping = [m for m in matches if _overlaps(entity, m)]
        live = [m for m in overlapping if m.counts]
        if live:
            return max(live, key=lambda m: m.end - m.start).code
        if overlapping:  # only negated or non-conduct mentions here: 「殴られてはいない」「殺すな」
            return None
        value = str(entity.get("value", "") or "")
        try:
            return enum(value).value
        except ValueError:
            pass
        code = to_code(value)
        if code is None:
            start, end = entity.get("start"), entity.get("end")
            if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
                code = to_code(text[start:end])
        return code.value if code is not None else None

    def _lexicon_entity(self, kind: str, match: lexicon.LexiconMatch) -> Dict[Text, Any]:
        return {
            "entity": kind,
            "start": match.start,
            "end": match.end,
            "value": match.code,
            "confidence_entity": None,
            "extractor": self.name,
        }


def _decide_intent(message: Message, name: str) -> None:
    """Set a rule's intent with full confidence, first in the ranking."""
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != name]
    decided = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
    message.set(INTENT, decided, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [decided, *ranking], add_to_output=True)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class LiveDangerIntent(_UntrainedComponent):
    """Danger happening now is an ``emergency`` whatever the model read; the same danger told
    afterwards is a report (``bot.urgency``). Runs after ``FallbackClassifier``, which would take
    the decided intent beside the model's for an ambiguous prediction.

    Configuration: ``emergency_intent``, ``report_intent``, ``promote_from`` (the intents a live
    danger overrides; questions such as 「110番したほうがいい？」 included)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "emergency_intent": "emergency",
            "report_intent": "report_incident",
            "promote_from": ["report_incident", "inform", "nlu_fallback", "ask_initial_response", "ask_escalation", "express_distress"],
        }

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            current = message.get(INTENT) if isinstance(message.get(INTENT), dict) else {}
            name = self.intent_for(message.get(TEXT) or "", current.get(INTENT_NAME_KEY))
            if name is not None and name != current.get(INTENT_NAME_KEY):
                _decide_intent(message, name)
        return messages

    def intent_for(self, text: str, intent: Optional[str]) -> Optional[str]:
        """The intent the tense of a danger decides, or None to keep the model's."""
        now = danger_is_now(text)
        if now is True and intent in self._config["promote_from"]:
            return self._config["emergency_intent"]
        if now is False and intent == self._config["emergency_intent"]:
            return self._config["report_intent"]
        return None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class CaseFactsIntent(_UntrainedComponent):
    """A message the model was unsure of but which plainly describes a case (「いま電話対応中で、
    もう60分になります」: live, by phone, an hour) is ``report_incident``: the consultation opens
    with what the text states and shows it for confirmation, rather than 「うまく読み取れません」.
    A case is the customer's conduct (a ``behavior`` entity) or at least ``min_situation_facts`` of
    the situation facts (live or over, channel, minutes) ``bot.text_facts`` reads. Runs last.

    Configuration: ``fallback_intent``, ``report_intent``, ``min_situation_facts``."""

    SITUATION_FACTS = ("ongoing", "situation_channel", "elapsed_minutes")

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"fallback_intent": "nlu_fallback", "report_intent": "report_incident", "min_situation_facts": 2}

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            current = message.get(INTENT) if isinstance(message.get(INTENT), dict) else {}
            if current.get(INTENT_NAME_KEY) != self._config["fallback_intent"]:
                continue
            if not self.describes_a_case(message.get(TEXT) or "", message.get(ENTITIES) or []):
                continue
            _decide_intent(message, self._config["report_intent"])
        return messages

    def describes_a_case(self, text: str, entities: List[Dict[Text, Any]]) -> bool:
        if any(entity.get("entity") == BEHAVIOR_ENTITY for entity in entities):
            return True
        facts = read_facts(text)
        return sum(key in facts for key in self.SITUATION_FACTS) >= self._config["min_situation_facts"]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True)
class BehaviorSpanCoder(GraphComponent, EntityExtractorMixin):
    """Gives a code to a ``behavior`` span DIET found but could not name.

    DIET finds new wordings of conduct (「日本人の店員に代われ」) as a span, but its value is the
    span's own text unless the exact text was seen in training (EntitySynonymMapper), and
    ``BehaviorCodeNormalizer`` drops what neither the synonyms nor the lexicon can map. This
    component learns the code from the span text of every annotated training span, beside pieces of the
    same messages that are no conduct (character 1–3-grams, logistic regression), and sets it
    where the probability reaches ``min_probability``. Runs after EntitySynonymMapper and before
    BehaviorCodeNormalizer, which still drops spans that are not the customer's conduct.

    Persisted with skops (as Rasa's own LogisticRegressionClassifier), loaded only when the file holds
    nothing but scikit-learn objects and sparse matrices; otherwise the component codes nothing.
    """

    MODEL_FILE = "behavior_span_coder.skops"
    NOT_CONDUCT = "-"
    # The one type outside skops' defaults the fitted pipeline holds (the vectoriser's idf diagonal).
    _TRUSTED_TYPES = ["scipy.sparse._csr.csr_matrix"]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"min_probability": 0.4, "negatives_per_example": 1, "random_state": 42}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        pipeline: Any = None,
    ) -> None:
        self._config = {**self.get_default_config(), **(config or {})}
        self._model_storage = model_storage
        self._resource = resource
        self._pipeline = pipeline

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "BehaviorSpanCoder":
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "BehaviorSpanCoder":
        import skops.io as sio

        pipeline = None
        try:
            with model_storage.read_from(resource) as directory:
                path = directory / cls.MODEL_FILE
                if set(sio.get_untrusted_types(file=path)) <= set(cls._TRUSTED_TYPES):
                    pipeline = sio.load(path, trusted=cls._TRUSTED_TYPES)
        except (ValueError, FileNotFoundError):
            pass
        return cls(config, model_storage, resource, pipeline)

    def training_spans(self, training_data: TrainingData) -> List[tuple[str, str]]:
        """(span text, code) of every annotated behaviour span, and (text, NOT_CONDUCT) of a few
        words and word pairs outside them in each example: DIET also marks such pieces
        (「市の」「手の甲」「課長」), which must stay without a code."""
        pick = random.Random(self._config["random_state"])
        spans = []
        for example in training_data.training_examples:
            text = example.get(TEXT) or ""
            marked = [
                (e["start"], e["end"], e["value"]) for e in example.get(ENTITIES) or []
                if e.get("entity") == BEHAVIOR_ENTITY and e.get("value") in _BEHAVIOR_CODES
            ]
            spans += [(text[start:end], code) for start, end, code in marked]
            tokens = [t for t in example.get(TOKENS_NAMES[TEXT]) or [] if _WORDLIKE.search(t.text)]
            pieces = sorted({
                text[first.start : last.end]
                for size in (1, 2)
                for first, last in zip(tokens, tokens[size - 1 :])
                if not any(first.start < end and start < last.end for start, end, _ in marked)
            })
            pick.shuffle(pieces)
            spans += [(piece, self.NOT_CONDUCT) for piece in pieces[: self._config["negatives_per_example"]]]
        return spans

    def train(self, training_data: TrainingData) -> Resource:
        import skops.io as sio
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        spans = self.training_spans(training_data)
        if len({code for _, code in spans}) < 2:
            return self._resource
        self._pipeline = make_pipeline(
            TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True),
            LogisticRegression(C=10.0, max_iter=2000, random_state=self._config["random_state"]),
        )
        self._pipeline.fit([lexicon.normalise(text) for text, _ in spans], [code for _, code in spans])
        with self._model_storage.write_to(self._resource) as directory:
            sio.dump(self._pipeline, directory / self.MODEL_FILE)
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def code_for(self, span: str) -> Optional[tuple[str, float]]:
        """The most probable code of a behaviour span and its probability (None when untrained)."""
        if self._pipeline is None or not span.strip():
            return None
        probabilities = self._pipeline.predict_proba([lexicon.normalise(span)])[0]
        best = int(probabilities.argmax())
        return str(self._pipeline.classes_[best]), float(probabilities[best])

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            entities = []
            for entity in message.get(ENTITIES) or []:
                value = str(entity.get("value", "") or "")
                start, end = entity.get("start"), entity.get("end")
                if (
                    entity.get("entity") == BEHAVIOR_ENTITY
                    and value not in _BEHAVIOR_CODES
                    and lexicon.behavior_code(value) is None
                    and isinstance(start, int)
                    and isinstance(end, int)
                ):
                    guess = self.code_for(text[start:end])
                    if guess is not None and guess[0] != self.NOT_CONDUCT and guess[1] >= self._config["min_probability"]:
                        entity = self.add_processor_name({**entity, "value": guess[0]})
                entities.append(entity)
            message.set(ENTITIES, entities, add_to_output=True)
        return messages
