"""Lexicon: surface keywords → behaviour/channel codes."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot import lexicon
from bot.codes import Behavior as B
from bot.codes import SituationChannel as C
from bot.lexicon.__main__ import main as lexicon_main
from bot.lexicon import behavior_code, behaviors_in, channel_code, channel_in, mentions_refusal_to_leave

ROOT = Path(__file__).resolve().parent.parent


# --- behavior_code: one surface form (an extracted entity value) -------------------------
@pytest.mark.parametrize(
    "surface, code",
    [
        ("怒鳴ら", B.INTIMIDATION),
        ("怒鳴っ", B.INTIMIDATION),
        ("どなられ", B.INTIMIDATION),
        ("机をバンバン叩い", B.INTIMIDATION),
        ("詰め寄", B.INTIMIDATION),
        ("土下座", B.DOGEZA_DEMAND),
        ("どげざ", B.DOGEZA_DEMAND),
        ("殺す", B.THREAT),
        ("殺したろ", B.THREAT),
        ("ぶっ殺す", B.THREAT),
        ("刃物", B.THREAT),
        ("殴ら", B.PHYSICAL_ATTACK),
        ("唾", B.PHYSICAL_ATTACK),
        ("投げつけ", B.PHYSICAL_ATTACK),
        ("居座っ", B.DETENTION),
        ("帰らない", B.DETENTION),
        ("暴言", B.VERBAL_ABUSE),
        ("給料泥棒", B.VERBAL_ABUSE),
        ("何度も", B.PERSISTENT),
        ("繰り返し", B.PERSISTENT),
        ("外国人", B.DISCRIMINATION),
        ("セクハラ", B.SEXUAL),
        ("待ち伏せ", B.THREAT),
        ("クビにしろ", B.PERSONAL_ATTACK),
        ("撮影", B.SNS_EXPOSURE),
        ("拡散", B.SNS_EXPOSURE),
        ("慰謝料", B.EXCESSIVE_DEMAND),
        ("特別扱い", B.EXCESSIVE_DEMAND),
        ("謝罪文", B.APOLOGY_DEMAND),
        ("念書", B.APOLOGY_DEMAND),
        ("市長に言いつける", B.AUTHORITY_PRESSURE),
        ("マスコミに流す", B.AUTHORITY_PRESSURE),
        ("上司を出せ", None),
        ("市長", None),
    ],
)
def test_behavior_code_surface_forms(surface, code):
    assert behavior_code(surface) is code  # a bare 市長 is a mention, not pressure


def test_behavior_code_accepts_codes_and_rejects_unknown():
    assert behavior_code("threat") is B.THREAT
    assert behavior_code(" dogeza_demand ") is B.DOGEZA_DEMAND
    assert behavior_code("窓口") is None
    assert behavior_code("") is None
    assert behavior_code("ありがとう") is None


def test_behavior_code_full_width_and_half_width():
    assert behavior_code("ＳＮＳに晒す") is not None
    assert behavior_code("ﾄﾞｹﾞｻﾞ") is B.DOGEZA_DEMAND  # half-width katakana


# --- behaviors_in: a whole message --------------------------------------------------------
@pytest.mark.parametrize(
    "text, codes",
    [
        ("窓口で男性が2時間も居座り、市長を出せと怒鳴っている", [B.DETENTION, B.AUTHORITY_PRESSURE, B.INTIMIDATION]),
        ("土下座しろって言われた", [B.DOGEZA_DEMAND]),
        ("慰謝料１００万払えと言われてます", [B.EXCESSIVE_DEMAND]),
        ("毎日１０回以上電話してくる", [B.PERSISTENT]),
        ("今週だけで十回目の電話です", [B.PERSISTENT]),
        ("九十分も電話を切らせてくれない", [B.DETENTION]),
        ("お前の家に行くからな、と言われた", [B.THREAT]),
        ("ネットに晒すぞ", [B.SNS_EXPOSURE]),
        ("お前の家は知ってるからな", [B.THREAT]),
        ("会社に押しかけるぞ", [B.THREAT]),
        ("ハサミを振り回している", [B.THREAT]),
        ("何度も食事に誘われる", [B.SEXUAL]),  # the repeat belongs to the invitation
        ("下ネタを延々と聞かされた", [B.SEXUAL]),
        ("何度も電話してくる", [B.PERSISTENT]),
        ("苦情の電話、とにかくしつこい", [B.PERSISTENT]),
        ("２時間半帰してもらえなかった", [B.DETENTION]),
        ("大声を出されて怖かった", [B.INTIMIDATION]),
        ("さっさと辞めろと言われた", [B.PERSONAL_ATTACK]),
        ("規定外の支給をしろと言われた", [B.EXCESSIVE_DEMAND]),
        ("歳とった職員じゃ話にならない、若いのに代われ", [B.DISCRIMINATION]),
        ("スマホで撮影してYouTubeに上げると言われた", [B.SNS_EXPOSURE]),
        ("しつこく食事に誘われる", [B.SEXUAL]),
        ("しつこく同じクレームを言ってくる", [B.PERSISTENT]),
        ("女じゃ話にならない、男を出せ", [B.DISCRIMINATION]),
        ("担当者の名前と住所を教えろと言われた", [B.PERSONAL_ATTACK]),
        ("謝罪文を書けと要求された", [B.APOLOGY_DEMAND]),
        ("土下座して謝れと言われた", [B.DOGEZA_DEMAND]),  # one demand, not two
        ("机をバンバン叩かれた", [B.INTIMIDATION]),  # banging the desk is not an assault
        ("頭を叩かれた", [B.PHYSICAL_ATTACK]),
        ("殴るふりをして威嚇してきた", [B.INTIMIDATION]),
        ("殴るぞと言われた", [B.THREAT]),
        ("つばを吐かれた", [B.PHYSICAL_ATTACK]),
    ],
)
def test_behaviors_in(text, codes):
    assert behaviors_in(text) == codes


def test_behaviors_in_orders_by_appearance_without_duplicates():
    text = "怒鳴られて、土下座しろと言われ、また怒鳴られて、慰謝料を払えと。何度も電話してくる"
    assert behaviors_in(text) == [B.INTIMIDATION, B.DOGEZA_DEMAND, B.EXCESSIVE_DEMAND, B.PERSISTENT]


@pytest.mark.parametrize(
    "text, absent",
    [
        ("殴られてはいない", B.PHYSICAL_ATTACK),
        ("殴られてはいないけど怒鳴ってはいる", B.PHYSICAL_ATTACK),
        ("暴言はありません。声が大きいだけです", B.VERBAL_ABUSE),
        ("怒鳴ってはいないけど威圧的", None),
        ("脅されたりはしていません", B.THREAT),
        ("暴力はないが、ずっと怒っている", B.PHYSICAL_ATTACK),
        ("殺すとは言っていない", B.THREAT),
        ("土下座までは要求されていない", B.DOGEZA_DEMAND),
        ("暴言や脅しはありません", B.VERBAL_ABUSE),
    ],
)
def test_negated_mentions_are_not_behaviours(text, absent):  # noqa: D103
    found = behaviors_in(text)
    if absent is None:
        assert found == [B.INTIMIDATION]  # 威圧的 still counts, 怒鳴って is negated
    else:
        assert absent not in found


def test_conditional_negation_is_not_a_negation():
    # 「土下座しないと帰らない」: the demand is there (「ないと」 = unless)
    assert behaviors_in("ここで土下座しないと帰らないと言っています") == [B.DOGEZA_DEMAND, B.DETENTION]


@pytest.mark.parametrize(
    "text",
    [
        "窓口でお客さんがかなり怒っています。こちらのミスです",
        "声は大きいけど要求は正当",
        "激怒されています",
        "謝ったほうがいいですか",
        "どこまで謝ればいいですか",
        "電話番号を聞いてもいいですか",
        "カスハラですか？",
        "これは脅迫にあたりますか",
        "何分まで付き合えばいいですか",
        "相談窓口の連絡先を教えて",
        "パソコンが動かない",
        "書類を丸投げされた",
        "電話が殺到している",
        "SNSです",
        "ばかりで困る",
        "大声で怒っているが言っていることはもっとも",
        "年寄りだと思ってバカにしてんのか、と怒っている",
        "県庁の窓口に来た",
    ],
)
def test_no_false_positives(text):
    assert behaviors_in(text) == []


# --- channels -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "surface, code",
    [
        ("電話", C.PHONE),
        ("でんわ", C.PHONE),
        ("窓口", C.COUNTER),
        ("カウンター", C.COUNTER),
        ("対面", C.COUNTER),
        ("訪問先", C.VISIT),
        ("お宅", C.VISIT),
        ("メール", C.EMAIL),
        ("SNS", C.SNS),
        ("ＳＮＳ", C.SNS),
        ("DM", C.SNS),
        ("手紙", C.LETTER),
        ("FAX", C.LETTER),
        ("phone", C.PHONE),
        ("counter", C.COUNTER),
    ],
)
def test_channel_code(surface, code):
    assert channel_code(surface) is code


def test_channel_code_unknown():
    assert channel_code("土下座") is None
    assert channel_code("") is None


@pytest.mark.parametrize(
    "text, code",
    [
        ("電話でずっと同じ話を繰り返される", C.PHONE),
        ("窓口で怒鳴られてます", C.COUNTER),
        ("訪問先で帰してもらえない", C.VISIT),
        ("メールで謝罪文を要求された", C.EMAIL),
        ("手紙が何十通も届いています", C.LETTER),
        ("公式アカウントへのDMで暴言", C.SNS),
        ("窓口で電話番号を教えろと言われた", C.COUNTER),  # 電話番号 is not the channel
        ("電話番号を教えろと言われた", None),
        ("メールアドレスを教えろ", None),
        ("SNSに晒すぞと言われた", None),  # exposure, not where it happens
        ("土下座しろと言われた", None),
    ],
)
def test_channel_in(text, code):
    assert channel_in(text) == code


# --- refusal to leave -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("退去をお願いしても帰らない", True),
        ("帰ってくださいと言ったのに居座っている", True),
        ("お引き取りくださいと３回伝えたが動こうとしない", True),
        ("居座っているので退去を求めたが応じない", True),
        ("閉庁なので帰るよう促しましたが帰りません", True),
        ("居座っています", False),
        ("帰ってくださいと言ったら帰った", False),
        ("退去をお願いしました", False),
        ("２時間も怒鳴られています", False),
    ],
)
def test_mentions_refusal_to_leave(text, expected):
    assert mentions_refusal_to_leave(text) is expected


def test_every_code_has_patterns():
    assert set(lexicon.BEHAVIOR_PATTERNS) == set(B)
    assert set(lexicon.CHANNEL_PATTERNS) == set(C)


def test_lookups_yml_is_generated_from_the_tables():
    """data/nlu/lookups.yml is `python -m bot.lexicon --write` output; regenerate it after editing."""
    assert (ROOT / "data" / "nlu" / "lookups.yml").read_text(encoding="utf-8") == lexicon.lookups_yml()


def test_lookups_yml_regexes_are_the_lexicon_patterns():
    data = yaml.safe_load(lexicon.lookups_yml())
    regexes = {}
    for item in data["nlu"]:
        if "regex" in item:
            examples = [line[2:] for line in item["examples"].splitlines() if line.startswith("- ")]
            regexes[item["regex"]] = examples[0]
    assert regexes == lexicon.rasa_regex_features()
    assert {item["synonym"] for item in data["nlu"] if "synonym" in item} <= {c.value for c in B} | {c.value for c in C}


def test_write_command(tmp_path):
    target = tmp_path / "lookups.yml"
    assert lexicon_main(["--write", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == lexicon.lookups_yml()


def test_non_behavior_spans():
    text = "障害のある方が何度も言ってくる"
    spans = lexicon.non_behavior_spans(text)
    assert [text[s:e] for s, e in spans] == ["障害のある方", "何度も"]
    assert lexicon.non_behavior_spans("殴られた") == []
