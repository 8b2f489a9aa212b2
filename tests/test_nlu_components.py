"""BehaviorCodeNormalizer on Rasa Message objects (no model needed)."""
from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.rasa.nlu_components import BehaviorCodeNormalizer


def _message(text: str, entities: list[dict]) -> Message:
    return Message(data={"text": text, "entities": entities})


def _diet(entity: str, text: str, surface: str, value: str | None = None, occurrence: int = 0) -> dict:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(surface, start + 1)
    return {
        "entity": entity,
        "start": start,
        "end": start + len(surface),
        "value": value if value is not None else surface,
        "extractor": "DIETClassifier",
        "confidence_entity": 0.9,
    }


def _run(text: str, entities: list[dict], **config) -> list[dict]:
    component = BehaviorCodeNormalizer({**BehaviorCodeNormalizer.get_default_config(), **config})
    [message] = component.process([_message(text, entities)])
    return message.get("entities")


def _pairs(entities: list[dict]) -> list[tuple[str, str]]:
    return [(e["entity"], e["value"]) for e in entities]


def test_maps_surface_values_to_codes():
    text = "窓口で怒鳴られて土下座しろと言われた"
    entities = [
        _diet("channel", text, "窓口"),
        _diet("behavior", text, "怒鳴ら"),
        _diet("behavior", text, "土下座"),
    ]
    result = _run(text, entities, add_lexicon_hits=False)
    assert _pairs(result) == [("channel", "counter"), ("behavior", "intimidation"), ("behavior", "dogeza_demand")]
    assert all(e["extractor"] == "DIETClassifier" for e in result)
    assert all("BehaviorCodeNormalizer" in e["processors"] for e in result)


def test_keeps_values_that_already_are_codes():
    text = "ずっと同じことを言われる"
    result = _run(text, [_diet("behavior", text, "同じこと", value="persistent")], add_lexicon_hits=False)
    assert _pairs(result) == [("behavior", "persistent")]


def test_context_decides_ambiguous_spans():
    # DIET only found 「叩い」; the lexicon sees 「机を…叩い」 around it.
    text = "机をバンバン叩いてくる"
    result = _run(text, [_diet("behavior", text, "叩い", value="physical_attack")], add_lexicon_hits=False)
    assert _pairs(result) == [("behavior", "intimidation")]


def test_drops_unmappable_values():
    text = "相手の男性がずっと何か言っている"
    result = _run(text, [_diet("behavior", text, "男性"), _diet("channel", text, "何か")], add_lexicon_hits=False)
    assert result == []


def test_drops_negated_mentions():
    text = "殴られてはいないけど怒鳴ってはいる"
    entities = [_diet("behavior", text, "殴ら", value="physical_attack"), _diet("behavior", text, "怒鳴っ")]
    assert _pairs(_run(text, entities)) == [("behavior", "intimidation")]


def test_drops_duplicate_codes_keeping_the_first():
    text = "怒鳴られて、また怒鳴られた"
    entities = [_diet("behavior", text, "怒鳴ら"), _diet("behavior", text, "怒鳴ら", occurrence=1)]
    result = _run(text, entities)
    assert _pairs(result) == [("behavior", "intimidation")]
    assert result[0]["start"] == 0


def test_adds_lexicon_hits_that_diet_missed():
    text = "窓口で居座って市長を出せと怒鳴っている"
    result = _run(text, [_diet("behavior", text, "怒鳴っ")])
    assert sorted(_pairs(result)) == sorted(
        [
            ("behavior", "intimidation"),
            ("behavior", "detention"),
            ("behavior", "authority_pressure"),
            ("channel", "counter"),
        ]
    )
    added = [e for e in result if e["extractor"] == "BehaviorCodeNormalizer"]
    assert {e["value"] for e in added} == {"detention", "authority_pressure", "counter"}
    for entity in added:
        assert text[entity["start"] : entity["end"]]


def test_a_lexicon_hit_inside_a_longer_model_entity_of_another_code_is_kept():
    text = "「土下座するまで帰らない」と言ってます"
    result = _run(text, [_diet("behavior", text, "土下座するまで帰らない", "detention")])
    assert sorted(v for kind, v in _pairs(result) if kind == "behavior") == ["detention", "dogeza_demand"]


def test_an_apology_demand_that_is_part_of_kneeling_is_dropped():
    def behaviours(text: str) -> list[str]:
        return [value for kind, value in _pairs(_run(text, [])) if kind == "behavior"]

    assert behaviours("頭を床につけて謝れと言われた") == ["dogeza_demand"]
    # a separate demand for a written apology stays
    assert sorted(behaviours("社長の謝罪文をよこせ、それから土下座もしろと")) == ["apology_demand", "dogeza_demand"]


def test_lexicon_hits_can_be_switched_off():
    text = "窓口で居座って市長を出せと怒鳴っている"
    assert _pairs(_run(text, [], add_lexicon_hits=False, add_lexicon_channels=False)) == []


def test_channel_added_only_when_none_found():
    text = "電話で、窓口にも来ると言われた"
    result = _run(text, [_diet("channel", text, "電話")])
    assert _pairs(result) == [("channel", "phone")]


def test_other_entities_pass_through_untouched():
    text = "2時間も怒鳴られた"
    period = {"entity": "Period_Time", "start": 0, "end": 3, "value": "2時間", "extractor": "SpacyEntityExtractor"}
    result = _run(text, [period, _diet("behavior", text, "怒鳴ら")])
    assert result[0] == period
    assert _pairs(result)[1] == ("behavior", "intimidation")


def test_synonym_conflicts_are_repaired_from_the_span():
    # EntitySynonymMapper maps surface text regardless of entity type; a channel whose
    # value came out as a behaviour code is repaired from its text span.
    text = "SNSのDMで暴言を送ってくる"
    entities = [_diet("channel", text, "SNS", value="sns_exposure"), _diet("behavior", text, "暴言")]
    assert _pairs(_run(text, entities)) == [("channel", "sns"), ("behavior", "verbal_abuse")]


@pytest.mark.parametrize("text", ["", "ありがとうございました"])
def test_messages_without_entities(text):
    assert _run(text, []) == []


def test_process_handles_several_messages():
    component = BehaviorCodeNormalizer(BehaviorCodeNormalizer.get_default_config())
    first = _message("土下座しろ", [])
    second = _message("はい", [])
    component.process([first, second])
    assert _pairs(first.get("entities")) == [("behavior", "dogeza_demand")]
    assert second.get("entities") == []


def test_drops_model_entities_inside_non_behaviour_phrases():
    text = "議員の名前を出して優遇を求めてくる"
    result = _run(text, [_diet("behavior", text, "名前", value="personal_attack"), _diet("behavior", text, "議員")])
    assert _pairs(result) == [("behavior", "authority_pressure")]


def test_repeat_of_another_behaviour_is_not_persistent():
    text = "「今度デートしよう」と何度も言ってくる"
    entities = [_diet("behavior", text, "デート"), _diet("behavior", text, "何度も", value="persistent")]
    assert _pairs(_run(text, entities)) == [("behavior", "sexual")]


def test_no_lexicon_hits_for_questions():
    text = "慰謝料の要求って応じないといけないものですか"
    component = BehaviorCodeNormalizer(BehaviorCodeNormalizer.get_default_config())
    message = Message(data={"text": text, "entities": [], "intent": {"name": "ask_judgement", "confidence": 0.9}})
    component.process([message])
    assert message.get("entities") == []
    report = Message(data={"text": text, "entities": [], "intent": {"name": "report_incident", "confidence": 0.9}})
    component.process([report])
    assert _pairs(report.get("entities")) == [("behavior", "excessive_demand")]


def test_not_yet_happened_is_not_added():
    assert _run("今にも殴られそうです", []) == []


@pytest.mark.parametrize(
    "text, surface, value",
    [
        ("クマを殺すなという抗議の電話です", "殺す", "threat"),
        ("庁舎の階段で転んでケガをしたという苦情の電話です", "ケガをした", "physical_attack"),
        ("もし殴られたらどうすればいいですか", "殴られ", "physical_attack"),
        ("私がつい大声を出してしまいました", "大声を出し", "intimidation"),
    ],
)
def test_drops_model_entities_that_are_not_the_customers_conduct(text, surface, value):
    result = _run(text, [_diet("behavior", text, surface, value=value)])
    assert [e for e in result if e["entity"] == "behavior"] == []


def test_lexicon_hits_respect_who_did_what():
    assert [e for e in _run("息子が学校で殴られたと相談に来ました", []) if e["entity"] == "behavior"] == []
    added = _run("窓口で殴られました", [])
    assert _pairs([e for e in added if e["entity"] == "behavior"]) == [("behavior", "physical_attack")]
    assert added[-1]["extractor"] == "BehaviorCodeNormalizer"


# --- BehaviorSpanCoder: a code for spans DIET found but could not name ---------------------------

def _coder_training_data() -> "TrainingData":
    from rasa.shared.nlu.training_data.training_data import TrainingData

    examples = {
        "discrimination": ["女のくせに", "女なんかに分かるか", "女の担当じゃ話にならない", "外国人は帰れ"],
        "excessive_demand": ["慰謝料を払え", "全額返金しろ", "商品券をよこせ", "三倍にして返せ"],
        "sexual": ["デートしよう", "彼氏いるの", "体を触ってきた", "胸をじろじろ見る"],
    }
    messages = []
    for code, spans in examples.items():
        for span in spans:
            text = f"「{span}」と言われた"
            messages.append(Message(data={"text": text, "intent": "report_incident", "entities": [
                {"entity": "behavior", "start": 1, "end": 1 + len(span), "value": code}]}))
    return TrainingData(training_examples=messages)


@pytest.fixture
def trained_coder(tmp_path):
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from bot.rasa.nlu_components import BehaviorSpanCoder

    storage, resource = LocalModelStorage(tmp_path), Resource("behavior_span_coder")
    coder = BehaviorSpanCoder(BehaviorSpanCoder.get_default_config(), storage, resource)
    coder.train(_coder_training_data())
    return coder, storage, resource


def _coded(coder, text: str, surface: str) -> list[dict]:
    [message] = coder.process([_message(text, [_diet("behavior", text, surface)])])
    return message.get("entities")


def test_span_coder_names_a_new_wording(trained_coder):
    coder, _, _ = trained_coder
    [entity] = _coded(coder, "「女の人に話しても無駄」と言われた", "女の人に話しても無駄")
    assert entity["value"] == "discrimination"
    assert "BehaviorSpanCoder" in entity["processors"]


def test_span_coder_leaves_codes_and_lexicon_words_alone(trained_coder):
    coder, _, _ = trained_coder
    text = "「慰謝料を払え」と言われた"
    [message] = coder.process([_message(text, [_diet("behavior", text, "慰謝料を払え", value="sexual")])])
    assert message.get("entities")[0]["value"] == "sexual"  # already a code: not the coder's to change
    [entity] = _coded(coder, "殴られた", "殴られ")
    assert entity["value"] == "殴られ" and "processors" not in entity  # the normaliser's lexicon maps it


def test_span_coder_below_the_threshold_keeps_the_text(trained_coder):
    coder, storage, resource = trained_coder
    from bot.rasa.nlu_components import BehaviorSpanCoder

    strict = BehaviorSpanCoder.load({"min_probability": 0.99}, storage, resource, None)
    [entity] = _coded(strict, "「よくわからない話」と言われた", "よくわからない話")
    assert entity["value"] == "よくわからない話"


def test_span_coder_persists_its_model_and_loads_it(trained_coder):
    coder, storage, resource = trained_coder
    from bot.rasa.nlu_components import BehaviorSpanCoder

    loaded = BehaviorSpanCoder.load(BehaviorSpanCoder.get_default_config(), storage, resource, None)
    span = "女の職員じゃ話にならない"
    assert loaded.code_for(span) == coder.code_for(span)
    assert loaded.code_for(span)[0] == "discrimination"
