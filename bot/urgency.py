"""Is the danger a message names happening now, or told afterwards?

「包丁を突きつけられていて動けない」 is an emergency; 「先月、鍵をかけて閉じ込められた件で相談です」
is the same kind of event told calmly, a report. The model confuses the two on new wording, so the
tense and the words around an explicit danger cue (``bot.text_facts.danger_cues``) decide:
present progressive, a cry for help or 「まだ」 say now; a past date, 「〜の件」 or 「今は落ち着いて」 say
afterwards. Where neither is said, the model's intent stands.
"""
from __future__ import annotations

import re

from bot.lexicon import normalise
from bot.text_facts import danger_cues

_NOW = re.compile(
    r"(?:て|で)(?:る|ます|います|いる)(?![^。、]{0,3}(?:件|とき|時))|(?:られ|され)(?:てる|ている|ています|てます)|[!！]"
    r"|助けて|たすけて|すぐ(?:来|き)て|誰か(?:来|き)て|だれか(?:来|き)て|救急車|応援(?:を|お願い|頼)|至急|やばい|どうしよう|どうすれば|どうしたら|110番[?？]"
    r"|まだ(?:近く|目の前|そこ|窓口|外|中|家|いる|い(?:ます|て)|来|続)|(?:今|いま)(?:から|まさに|目の前|すぐ|殴|刺|窓口|外に|、)"
    r"|今夜|今晩|今日中|これから(?:行|来|殺|刺)|(?:出られ|帰れ|動け)(?:ない|ません)(?![^。、]{0,3}(?:件|とき|時))"
)
_AFTERWARDS = re.compile(
    r"昨日|きのう|昨晩|昨夜|先週|先月|去年|昨年|一昨日|おととい|前回|この前|以前|(?:月|火|水|木|金|土|日)曜(?:日)?に"
    r"|の件|件で|件、|件について|報告です|報告します|相談させて|相談したい|相談です|でした[。]?$"
    r"|(?:今|いま)は[^。]{0,10}?(?:落ち着|帰|いな|おさま|収ま|下が|離れ|避難|別室|安全)|もう帰(?:った|りました|られ)|帰った後|後日"
)


def danger_is_now(text: str) -> bool | None:
    """True when the message names explicit danger happening now, False when it names danger
    told afterwards, None when it names none or the tense does not tell."""
    if not danger_cues(text, also_over=True):
        return None
    norm = normalise(text or "")
    if _AFTERWARDS.search(norm):
        return False
    if _NOW.search(norm):
        return True
    return None
