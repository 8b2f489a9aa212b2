"""Who did what: is a keyword found in a message conduct *by the customer toward staff*?

Behaviour codes stand for what the customer did to staff or the office. The same words
also appear where nobody did anything to staff, and then they must not count:

- a hypothetical or a question about the rules: 「もし殴られたら」「殺すぞは脅迫になりますか」;
- a prohibition or plea quoted from the customer: 「クマを殺すな」「殺さないで」;
- harm to an animal: 「クマを殺す」 (the bear-culling protest calls);
- the customer (or a third party) as the victim: 「庁舎の階段で転んでケガをしたという苦情」
  「職員に怒鳴られたという苦情」「息子が学校で殴られた」;
- the employee's own actions: 「私がつい大声を出してしまった」;
- a joke: 「冗談で『殺すぞ』と笑っていた」.

Negations (「殴られてはいない」) are handled by :mod:`bot.lexicon` itself.

This works on surface forms of the normalised text (NFKC, lower case), which carry the
grammar that matters here: the passive (〜れ/〜られ) after a verb stem says the speaker's side
underwent the act, a first-person subject without the passive says the employee did it, and a
complaint noun after a passive (〜されたという苦情) says the caller underwent it. The GiNZA
dependency parse was not needed for these cases and costs ~15 ms a message; this check costs
microseconds (tests/test_conduct.py lists the cases).
"""
from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"[。！？!?\n]")

# Before the keyword, in the same sentence.
_HYPOTHETICAL_BEFORE = re.compile(r"(?:もし(?:も)?|仮に|万が?一|例えば|たとえば)[^。！？!?\n]*$")
_JOKE_BEFORE = re.compile(r"(?:冗談|じょうだん|ジョーク|ふざけて|笑いながら)[^。！？!?\n]{0,12}$")
_ANIMAL_BEFORE = re.compile(
    r"(?:クマ|くま|熊|動物|犬|猫|ねこ|鹿|シカ|しか|イノシシ|いのしし|猪|猿|サル|鳥|カラス|野良|害獣|ペット|生き物|命ある)"
    r"(?:を|は|も|たち|の子|なんか|まで)?[^。！？!?\n、]{0,6}$"
)
_VICTIM_BEFORE = re.compile(
    r"(?:子供|子ども|こども|息子|娘|母親?|父親?|家族|夫|妻|旦那|奥さん|孫|兄|弟|姉|妹|ご本人|相談者|生徒|児童|"
    r"(?:男性|女性|お客さん|お客様|市民|住民|相手)(?:自身|本人))"
    r"(?:が|は|も)[^。！？!?\n]{0,14}$"
)
_OTHER_AGENT_BEFORE = re.compile(
    r"(?:家族|夫|妻|旦那|親|同居[^。、]{0,4}|隣人|隣の人|近所の人|知らない人|別の人|他の客|ほかの客|同級生|先生|詐欺[^。、]{0,3}|犯人|元夫|元妻|交際相手|彼氏|彼女)"
    r"(?:に|から)[^。！？!?\n、]{0,6}$"
)
_EMPLOYEE_SUBJECT_BEFORE = re.compile(
    r"(?:私|わたし|自分|僕|ぼく|こちら|当方)(?:が|も|は)?(?:つい|思わず|うっかり)?[^。！？!?\n、]{0,8}$"
)

# After the keyword.
_HYPOTHETICAL_AFTER = re.compile(
    r"^[^。、！？!?\n]{0,7}?(?:たら(?![いし])|れば|場合|ような(?:とき|時)|(?:とき|時)(?:の(?:ため|対応|対処|備え)|に備え|は(?:どう|どの|何))|なら(?:ば)?(?!な))"
)
# 「土下座したら許してやる」: the customer's condition, a demand rather than a hypothetical.
_CONDITIONAL_DEMAND_AFTER = re.compile(r"^[^。、]{0,7}?(?:たら|れば)[、]?(?:許|勘弁|帰って?や|考えてや|やめてや|認めてや|終わりにしてや)")
_QUESTION_AFTER = re.compile(
    r"^[^。！？!?\nた]{0,14}?(?:罪|犯罪|違法|法律)?(?:にあた|に当た|になり(?:ます|え)|になる(?:の|ん)?(?:です|でしょう)?か|に含まれ|って(?:なに|何)(?:です|でしょう|[?？]|$)|とは何|の定義|かどうか)"
)
# 「殺すな」「殴るなよ」, 「殺さないで」: what the customer asks others not to do.
_PROHIBITION_AFTER = re.compile(r"^(?:な(?:よ|ー|っ|[!！」』。、]|って|と|$)|ないで|ないでください|ないでほしい|ないでくれ)")
_PASSIVE_AFTER = re.compile(r"^[かがさたなばまらわいきしちにびみりっんえけせてねべめれ]{0,2}(?:れ|られ)")
_EMPLOYEE_ACT_AFTER = re.compile(r"^[^。！？!?\n]{0,6}?(?:てしま|でしま|ちゃっ|ちゃい|じゃっ)")
_COMPLAINT_AFTER = re.compile(
    r"^[^。！？!?\n「」]{0,10}?(?:という|との|と|って)(?:ご?意見|苦情|クレーム|訴え|抗議|申し出|お叱り)"
)
_INJURY = re.compile(r"けが|怪我|ケガ|傷害|流血")
_ACCIDENT_NEAR = re.compile(r"転ん|転倒|転び|ころん|つまず|躓|滑っ|すべっ|落ち(?!着|込|つ)|事故|ぶつけて|段差|階段で|遊具")

# Behaviour codes that name violence; prohibitions and animals only make sense for these.
VIOLENT_CODES = frozenset({"physical_attack", "threat"})


def _sentence_bounds(norm: str, start: int, end: int) -> tuple[int, int]:
    before = [m.end() for m in _SENTENCE_END.finditer(norm, 0, start)]
    after = _SENTENCE_END.search(norm, end)
    return (before[-1] if before else 0), (after.start() if after else len(norm))


def not_conduct_reason(norm: str, start: int, end: int, code: str | None = None) -> str | None:
    """Why the keyword at ``norm[start:end]`` is not the customer's conduct, or None when it is.

    ``norm`` is the normalised message (see ``bot.lexicon.normalise``); ``code`` the behaviour
    code of the keyword, if known. Reasons: ``hypothetical``, ``question``, ``joke``,
    ``prohibition``, ``animal``, ``victim_report``, ``accident``, ``third_party``, ``employee``.
    """
    sentence_start, sentence_end = _sentence_bounds(norm, start, end)
    before = norm[sentence_start:start]
    after = norm[end:sentence_end]
    violent = code is None or code in VIOLENT_CODES
    passive = bool(_PASSIVE_AFTER.match(after)) or norm[start:end].endswith(("れ", "られ", "され"))
    conditional_demand = _CONDITIONAL_DEMAND_AFTER.match(after)
    if not conditional_demand and (_HYPOTHETICAL_BEFORE.search(before) or _HYPOTHETICAL_AFTER.match(after)):
        return "hypothetical"
    if _QUESTION_AFTER.match(after):
        return "question"
    if _JOKE_BEFORE.search(before):
        return "joke"
    if violent and _PROHIBITION_AFTER.match(after) and (norm[end - 1] in "うくぐすつぬぶむる" or after.startswith("ない")):
        return "prohibition"
    if violent and _ANIMAL_BEFORE.search(before):
        return "animal"
    if violent and _ACCIDENT_NEAR.search(norm[sentence_start:sentence_end]) and not _customer_act_near(norm, start, end):
        return "accident"
    if (passive or _INJURY.search(norm, start, end)) and _COMPLAINT_AFTER.match(after):
        return "victim_report"
    if passive and (_VICTIM_BEFORE.search(before) or _OTHER_AGENT_BEFORE.search(before)):
        return "third_party"
    if not passive and (_EMPLOYEE_ACT_AFTER.match(after) and _EMPLOYEE_SUBJECT_BEFORE.search(before)):
        return "employee"
    return None


_CUSTOMER_ACT = re.compile(r"突き飛ばさ|押さ?れ|蹴ら|殴ら|叩か|つかま|掴ま|投げ|倒さ|させられ|負わされ")


def _customer_act_near(norm: str, start: int, end: int) -> bool:
    sentence_start, sentence_end = _sentence_bounds(norm, start, end)
    return bool(_CUSTOMER_ACT.search(norm, sentence_start, sentence_end))
