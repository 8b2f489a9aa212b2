"""The customer's demand as a short polite noun phrase the employee can say back (「返金」 for 「返金しろ」).

Never the customer's rough, sexual or threatening words, and never the employee's whole sentence:
when the typed demand cannot be turned into a short safe phrase (abuse, a question, a long or
unusual sentence), the result is None and the caller uses a neutral line instead.
"""
from __future__ import annotations

import re
import unicodedata

from bot import lexicon
from bot.codes import Behavior

MAX_CHARS = 16  # a phrase longer than this is not something to say back mid-call

# Demands that are fine to confirm back in polite words; any other conduct read in the text is not.
_CONFIRMABLE = frozenset({Behavior.EXCESSIVE_DEMAND, Behavior.APOLOGY_DEMAND, Behavior.AUTHORITY_PRESSURE})
# Words never to repeat to the customer: abuse, sexual words, threats, staff's personal details,
# demands to punish staff. The lexicon catches most of these; this list covers short forms it leaves.
_UNSAFE = re.compile(
    "バカ|ばか|馬鹿|アホ|あほ|ボケ|カス|クソ|くそ|糞|死ね|しね|殺|てめ|テメ|お前|おまえ|貴様|きさま|ぶっ|無能|泥棒"
    "|ホテル|胸|尻|触|抱|キス|付き合|つきあ|デート|脱|下着|エロ|セクハラ|晒|燃や|土下座|ネット|SNS"
    "|名前|名乗|連絡先|電話番号|住所|家に行|辞め|クビ|首に|処分しろ"
)
_NO_DEMAND = re.compile(r"(?:要求|要望|希望|用件)[はも]?(?:特に)?(?:ない|なく|なし|ありません)|世間話|雑談")
_QUESTION = re.compile(r"[?？]|(?:ですか|ますか|でしょうか|かな|のか|んですか|か)[。．.!！]*$")
_QUOTED = re.compile(r"[「『]([^」』]{1,40})[」』]")
_SUBJECT = re.compile(r"^(?:相手|客|お客様|お客さん|男性|女性|市民|住民|その人|その方|向こう|先方)(?:が|は|から|の方が)?")
_REPORTING = re.compile(
    r"(?:と|って)(?:言|い|おっしゃ|要求|求め|怒鳴|叫|騒|繰り返|言い張|迫)[^。]*$|(?:そう|とのこと|みたい|らしい)(?:です|だ)?[。]*$"
)
_TAIL = re.compile(r"(?:です|だ|よ|ぞ|な|ね|わ|って|[。．.!！、,\s])+$")
_PEOPLE = {"上司", "責任者", "課長", "係長", "部長", "所長", "局長", "市長", "町長", "村長", "知事", "担当者", "偉い人", "上の人"}
_MONEY = {"金", "お金", "料金", "代金", "税金", "手数料"}
_PATTERNS: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(r"^(.+?)を?(?:出せ|呼べ|出して|呼んで)(?:ほしい|欲しい|くれ|ください|下さい)?$"), "person"),
    (re.compile(r"^(.+?)を?(?:返せ|返して)(?:ほしい|欲しい|くれ|ください|下さい)?$"), "return"),
    (re.compile(r"^(.+?)を?(?:直せ|なおせ|直して|なおして)(?:ほしい|欲しい|くれ|ください|下さい)?$"), "{}の修正"),
    (re.compile(r"^(.+?)を?(?:やめろ|やめて|止めろ|止めて|中止しろ|中止して)(?:ほしい|欲しい|くれ|ください|下さい)?$"), "{}の中止"),
    (re.compile(r"^(.+?)を?(?:送れ|送って)(?:ほしい|欲しい|くれ|ください|下さい)?$"), "{}の送付"),
    (re.compile(r"^(.+?)を?(?:教えろ|教えて)(?:ほしい|欲しい|くれ|ください|下さい)?$"), "{}のご説明"),
    (re.compile(r"^(.+?)を?して(?:ほしい|欲しい|もらいたい|ください|下さい|くれ|いただきたい)?$"), "{}"),
    (re.compile(r"^(.+?)(?:しろ|せよ|しなさい|してくれ|しやがれ|すべき|するべき)$"), "{}"),
    (re.compile(r"^(.+?)[がを](?:ほしい|欲しい|したい)$"), "{}"),
)
# A phrase ending like a verb or adjective, or in a particle, is not a noun phrase to say back.
_NOT_NOUN_END = re.compile(r"[をにがはでともへやかよねぞわるただいうくすつぬむけせてれろめえ]$")
_PARTICLE = re.compile(r"[をにがはでへと]")
_PUNCTUATION = re.compile(r"[、。,.!！]")
_OBJECT_THEN_ACTION = re.compile(r"^([^を]+)を([\u4e00-\u9fff]+)$")  # 通知を訂正 → 通知の訂正


def _core(text: str) -> str:
    quoted = _QUOTED.search(text)
    core = quoted.group(1) if quoted else text
    core = _REPORTING.sub("", core)
    core = _SUBJECT.sub("", core.strip())
    return _TAIL.sub("", core).strip()


def _noun(core: str) -> str | None:
    for pattern, shape in _PATTERNS:
        match = pattern.match(core)
        if not match:
            continue
        noun = match.group(1).rstrip("をがは")
        if shape == "person":
            return f"{noun}からのご説明" if noun in _PEOPLE else None
        if shape == "return":
            return "返金" if noun in _MONEY else f"{noun}の返還"
        return shape.format(noun)
    return core


def paraphrase(demand: str) -> str | None:
    """A short polite noun phrase for the demand, or None when it should not or cannot be said back."""
    text = unicodedata.normalize("NFKC", demand or "").strip()
    if not text or text.startswith("/") or _UNSAFE.search(text) or _NO_DEMAND.search(text):
        return None
    if set(lexicon.behaviors_in(text)) - _CONFIRMABLE:
        return None
    core = _core(text)
    if not core or _QUESTION.search(core) or _QUESTION.search(text):
        return None
    noun = _noun(core)
    if noun:
        noun = _OBJECT_THEN_ACTION.sub(r"\1の\2", noun)
    if not noun or len(noun) > MAX_CHARS or _PARTICLE.search(noun) or _NOT_NOUN_END.search(noun) or _PUNCTUATION.search(noun):
        return None
    return noun
