"""Who did what: keywords that are not the customer's conduct toward staff count as nothing."""
from __future__ import annotations

import pytest

from bot.codes import Behavior as B
from bot.lexicon import behaviors_in, find_behaviors

# (message, behaviour codes the lexicon may read — hand-written)
CASES = [
    # conduct by the customer
    ("「殺すぞ」と言われました", [B.THREAT]),
    ("お前の家は知ってるからな、と言われた", [B.THREAT]),
    ("窓口で殴られました", [B.PHYSICAL_ATTACK]),
    ("突き飛ばされて転んでケガをしました", [B.PHYSICAL_ATTACK]),
    ("職員が怒鳴られ続けています", [B.INTIMIDATION]),
    ("殺すぞと言われたけど、これは脅迫罪になりますか", [B.THREAT]),
    # not conduct: look-alikes
    ("クマを殺すなという抗議の電話です", []),
    ("「殺さないで」と何度も言っていました", []),
    ("もし殴られたらどうすればいいですか", []),
    ("怒鳴られたときのために録音したほうがいいですか", []),
    ("殺すぞは脅迫罪になりますか", []),
    ("庁舎の階段で転んでケガをしたという苦情の電話です", []),
    ("職員に怒鳴られたという苦情です", []),
    ("息子が学校で殴られたと相談に来ました", []),
    ("私がつい大声を出してしまいました", []),
    ("冗談で「殺すぞ」と笑っていました", []),
    ("殴られてはいません", []),
]


@pytest.mark.parametrize("text, codes", CASES)
def test_behaviours_respect_who_did_what(text, codes):
    assert behaviors_in(text) == codes


def test_the_reason_is_kept_on_the_match():
    reasons = {m.not_conduct for m in find_behaviors("クマを殺すな")}
    assert reasons == {"prohibition"}
    assert {m.not_conduct for m in find_behaviors("もし殴られたら")} == {"hypothetical"}
