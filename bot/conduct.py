"""Who did what: is a keyword found in a message conduct *by the customer toward staff*?

Behaviour codes stand for what the customer did to staff or the office. The same words
also appear where nobody did anything to staff, and then they must not count:

- a hypothetical or a question about the rules: 「もし殴られたら」「殺すぞは脅迫になりますか」;
- a prohibition or plea quoted from the customer: 「クマを殺すな」「殺さないで」;
- harm to an animal: 「クマを殺す」 (the bear-culling protest calls);
- the customer (or a third party) as the victim: 「庁舎の階段で転んでケガをしたという苦情」
  「職員に怒鳴られたという苦情」「息子が学校で殴られた」;
- the employee's own actions: 「私がつい大声を出してしまった」, staff's own words in a quotation
  (「課長が『謝罪文をお出しします』と」);
- words quoted from someone else's dispute: 「近所の人に『殺すぞ』と脅されたという住民の方が相談に来ています」;
- a joke: 「冗談で『殺すぞ』と笑っていた」「『殺す気か』と笑いながら」;
- news and fiction: 「ニュースで職員が刺された事件を見た」.

Negations (「殴られてはいない」) are handled by :mod:`bot.lexicon` itself.

This works on surface forms of the normalised text (NFKC, lower case), which carry the
grammar that matters here: the passive (〜れ/〜られ) after a verb stem says the speaker's side
underwent the act, a first-person subject without the passive says the employee did it, and a
complaint noun after a passive (〜されたという苦情) says the caller underwent it; inside a 「」
quotation the speaker and the hearer stand outside it. The GiNZA dependency parse was tried as a
veto on top of these rules (subject and clause of the behaviour verb) on the dev sets of issue 8:
no fewer false alarms (13/461 either way), F1 0.940 -> 0.937, at ~15 ms (idle) to ~40 ms (loaded
2-core machine) per parsed message, so it is not used; this check costs microseconds
(tests/test_conduct.py lists the cases).
"""
from __future__ import annotations

import re

# 「倍返しだ！」と笑いながら: a mark inside a quotation does not end the sentence.
_SENTENCE_END = re.compile(r"[。！？!?\n](?![」』])")

# Before the keyword, in the same sentence.
_HYPOTHETICAL_BEFORE = re.compile(r"(?:もし(?:も)?|仮に|万が?一|例えば|たとえば)[^。！？!?\n]*$")
_JOKE_BEFORE = re.compile(r"(?:冗談|じょうだん|ジョーク|ふざけて|笑いながら)[^。！？!?\n]{0,12}$")
_JOKE_AFTER = re.compile(
    r"^[^。！？!?\n]{0,6}?[」』]?(?:と|って)[^。、]{0,8}?(?:冗談|じょうだん|ジョーク|ふざけて|笑いながら|笑って|ニコニコ|にこにこ|笑顔で)"
    r"|^[^。]{0,30}?(?:いつもの|ただの)?(?:冗談|ジョーク)(?:です|でした|だと|で言)"
)
# news, fiction and other places: 「ニュースで職員が刺された事件を見た」「ドラマで土下座させるシーン」
_STORY_BEFORE = re.compile(r"(?:ニュース|報道|新聞|ドラマ|時代劇|番組|映画|テレビ|バラエティ|漫画|マンガ|アニメ|小説|記事|研修の動画|他県|他市|他の県|他の市|よその)(?:で|の|を|に)[^。]{0,16}$")
_STORY_AFTER = re.compile(r"^[^。、]{0,8}?(?:事件|シーン|場面|ニュース|記事|報道|ってやって|と(?:やって|報道))")
_ANIMAL_BEFORE = re.compile(
    r"(?:クマ|くま|熊|動物|犬|猫|ねこ|鹿|シカ|しか|イノシシ|いのしし|猪|猿|サル|鳥|カラス|野良|害獣|(?<!ー)ペット(?!ボトル)|生き物|命ある"
    r"|自然|環境|森|川|地球|文化|ふるさと|商店街|まち|街|町|地域|経済|産業|農業|漁業|商売|未来|景観|歴史|伝統|個性|才能)"
    r"(?:を|は|も|たち|の子|なんか|まで)?[^。！？!?\n、]{0,4}$"
)
_VICTIM_BEFORE = re.compile(
    r"(?:子供|子ども|こども|お子さん|息子|娘|母親?|父親?|家族|夫|妻|旦那|奥さん|孫|兄|弟|姉|妹|ご本人|相談者|生徒|児童|"
    r"(?:男性|女性|お客さん|お客様|市民|住民|相手)(?:自身|本人))"
    r"(?:が|は|も)[^。！？!?\n]{0,14}$"
)
_OTHER_AGENT = (
    r"(?:近所|知らない|見知らぬ|通りすがり|隣)の[^。、にからがはを]{0,4}?(?:男|女|子|人|方)[^。、にからがはを]{0,3}|知らない(?:男|女|人)|見知らぬ(?:男|女|人)|痴漢|"
    r"隣の家の(?:人|方)|隣家の?(?:人|方)?|近所の方|家族|夫|妻|旦那|ご主人|奥さん|親|父親?|母親?|お?兄さん|お?姉さん|兄|弟|姉|妹|息子|娘|同居[^。、]{0,4}|隣人|隣の人|近所の人|知らない人|別の人|他の客|ほかの客|"
    r"(?:別|他|ほか)の(?:患者|利用者|お客|客|入居者|乗客|来庁者)|同級生|先生|犯人|元夫|元妻|交際相手|彼氏|彼女|職員|係員|担当者?|窓口の人|"
    r"上司|課長|係長|部長|所長|店長|先輩|同僚|押し売り|訪問販売|セールス|勧誘|業者|悪徳[^。、]{0,4}|不審者|ストーカー|誰か|だれか|何者か"
)
# 「業者に」「元夫から」 (「職員に向かって」 is a target, not an agent)
_BY_OTHER_AGENT = rf"(?:{_OTHER_AGENT})(?:さん|様|さま)?(?:に(?!向か|むか|対し|めがけ)|から)"
_OTHER_AGENT_BEFORE = re.compile(
    rf"{_BY_OTHER_AGENT}[^。！？!?\n、]{{0,6}}$|詐欺[^。、]{{0,4}}(?:に|から|で)[^。！？!?\n、]{{0,6}}$"
)
# 「息子さんからの暴言」: a noun phrase naming who did it, no passive needed.
_FROM_OTHER_AGENT_BEFORE = re.compile(rf"(?:{_OTHER_AGENT})(?:さん|様|さま)?からの$")
_EMPLOYEE_SUBJECT_BEFORE = re.compile(
    r"(?:私|わたし|自分|僕|ぼく|こちら|当方)(?:が|も|は)?(?:つい|思わず|うっかり)?[^。！？!?\n、]{0,8}$"
)

# 「ドラマのセリフをまねて『倍返しだ』」「ぶっ殺すって歌詞の曲」: words from fiction, not said to staff.
_FICTION_BEFORE = re.compile(r"(?:ドラマ|映画|アニメ|漫画|マンガ|番組|cm|歌|曲|ゲーム)の(?:セリフ|台詞|名言|決め台詞|フレーズ|歌詞|まね|真似|ものまね)[^。]{0,12}$")
_FICTION_AFTER = re.compile(r"^[^。、]{0,6}?(?:って|という|との|の)(?:歌詞|セリフ|台詞|曲|歌|タイトル|フレーズ|名言)")
# 「古い包丁の捨て方」「灯油ストーブの処分」: a weapon or fuel as goods.
_GOODS_AFTER = re.compile(
    r"^(?:売り場|売場|研ぎ|とぎ|セット|コーナー|専門店|唐揚げ|からあげ|おにぎり|ハンバーグ|バーガー|丼|ラーメン|カレー|定食|弁当|セール|メニュー|ドリンク)"
    r"|^[^。、]{0,8}?の(?:捨て方|出し方|処分|廃棄|回収|分別|収集|修理|販売|売り場|値段|在庫|買い取り|買取|保管|研ぎ|取り扱い|使い方|届け出|持ち込み)"
)
_GOODS_BEFORE = re.compile(r"(?:料理用|調理用|業務用|家庭用|新品|中古|売り物|商品)の$|(?:中身|品名|内容物)(?:が|は|に)?[「『]?$")
# 「口コミに良かったと書いておきますね」「次もあなたにお願いしたいから名前を」: praise, not exposure.
_PRAISE_NEAR = re.compile(
    r"良かった(?!ら)|よかった(?!ら)|感謝|ありがと|褒め|ほめ|高評価|星5|星５|おすすめ|次も(?:あなた|お願い)|またお願い|指名したい|お願いしたいから"
)
_PRAISE_CODES = frozenset({"sns_exposure", "personal_attack"})
# 「写真を撮って、補償の手続きを」: a photo of damage for a claim.
_CLAIM_NEAR = re.compile(r"補償|保険|修理|破損|へこみ|汚れ")
# 「ストーカーに住所を知られたくない」: the wrongdoer named is someone else's.
_WRONGDOER_SURFACE = re.compile(r"ストーカー|痴漢|不審者|犯人")
_WRONGDOER_AFTER = re.compile(r"^(?:に|から|被害|の被害)")
# 「小説『呪いの館で皆殺し』」: a title.
_TITLE_BEFORE = re.compile(r"(?:小説|映画|ドラマ|漫画|マンガ|アニメ|ゲーム|本|絵本|曲|歌|番組|作品)(?:の)?[「『][^」』]*$")
# 「市議さんにここを勧められて来ました」: a referral, not pressure.
_REFERRAL_AFTER = re.compile(r"^[^。]{0,12}?(?:勧められ|すすめられ|紹介され|の紹介で|紹介で|に教えてもら|から聞いて来)")
# 「警察の連絡先を聞かれました」: an institution's contact, not the employee's.
_INSTITUTION_BEFORE = re.compile(r"(?:警察|交番|消防|病院|弁護士|保険会社|相談窓口|法テラス|センター|事務所|会社|業者|施設|学校|担当課|役所)の$")
# 「殴られたのはお客さん本人で」: the customer was the one harmed.
_CUSTOMER_HARMED_AFTER = re.compile(r"^[^。、]{0,4}?のは[^。、]{0,10}?(?:本人|ご本人|自身)")
# 「格ゲーで友達をボコボコにした」: a game or a sport, not an office.
_GAME_BEFORE = re.compile(r"(?:ゲーム|格ゲー|ゲーセン|試合|スパーリング|プロレス|ボクシング|空手|柔道|剣道|サバゲー)(?:で|の|中に?)[^。]{0,16}$")

# After the keyword.
# 「殴りたいくらい腹が立つ」: a feeling, nobody was hit.
_HYPERBOLE_AFTER = re.compile(r"^[^。、]{0,2}?(?:たい|たく)(?:くらい|ぐらい|ほど|気分|気持ち|衝動)")
# 「殺すなんてひどい」「殺人と同じだ」: an opinion about a policy, with a violent word in it.
_OPINION_AFTER = re.compile(r"^[^。、]{0,3}?(?:なんて|なんか|のは)[^。]{0,8}?(?:ひど|酷|かわいそう|可哀想|残酷|許せ|反対|おかし|信じられ|野蛮|ありえ|人殺し|虐殺|殺人|と同じ|に等しい|も同然)|^(?:[られたの]{0,4})(?:と同じ|に等しい|も同然)|^政策")
# 「帰してもらえないとかはなくて」「居座ってるわけじゃなくて」
_NEGATED_AFTER = re.compile(r"^[^。、]{0,6}?(?:とか|みたいな(?:こと|の)?|ような(?:こと|の)?|わけ|訳)(?:は|も|で|じゃ|では)?(?:なく|ない|ありません|なかった)")
_PERMISSION_AFTER = re.compile(r"^(?!って)[^。、]{0,4}?(?:ても|でも|て|で)(?:いい|よい|良い|大丈夫|構わない|かまわない)(?:か|です|でしょう|の)")
# 「」とは言っていません: a quotation the employee says was not said.
_QUOTE_DENIED_AFTER = re.compile(
    r"^(?![^。「」]{0,8}?だけ)[^。「」]{0,8}[」』]?(?:と|って)?(?:は|も|まで)?(?:言って|言われて|言われ|言わ|口にして)(?:は|も)?(?:い|お)?(?:ない|ません|なかった|ず)"
)
_WORD_NOT_SAID_AFTER = re.compile(r"^[」』]?(?:という|って|との)(?:言葉|単語|発言|要求|話)(?:は|も)?[^。、]{0,6}?(?:ない|ません|なかった)")
# 「慰謝料の請求方法」「損害賠償の手続きについて」: the topic of a question, not a demand.
_TOPIC_AFTER = re.compile(
    r"^[^。、]{0,6}?(?:について|に関して|に関する|の(?:手続き|請求方法|申請方法|制度|仕組み|やり方|方法|書類|申請書|窓口|相談先|説明|書き方|文例|相場))"
)
TOPIC_CODES = frozenset({"excessive_demand", "apology_demand"})
_FIRST_PERSON = re.compile(r"(?:私|わたし|自分|僕|ぼく|こちら|当方|うち|職員|係員|担当者?|同僚)(?:が|から|の方から|のほうから|も|で)(?![^。、]{0,3}(?:に|から)(?:は)?$)")
_OTHER_SUBJECT = re.compile(r"(?:相手|男性|女性|客|お客|その人|あの人|向こう|先方|方|市民|住民|利用者|人)(?:さん|様)?(?:が|は|も)")
_UNDERWENT_AFTER = re.compile(r"^[^。]{0,20}?(?:られ|され|言われ|迫られ|求められ|てき|てく|と言|って言)")
_THIRD_PARTY_SUBJECT_BEFORE = re.compile(
    r"(?:お子さん|子ども|子供|こども|赤ちゃん|赤ん坊|他の(?:お客|客|利用者|方)|ほかの(?:お客|客|利用者|方)|別の(?:お客|客|利用者|方)|隣の(?:人|客|方)|通行人|酔っ払い"
    r"|父親|母親|お父さん|お母さん|お?兄さん|お?姉さん|兄|弟|姉|妹|祖父|祖母|夫|妻|旦那さん?|ご主人|息子さん?|娘さん?|元夫|元妻|交際相手|同居人|隣人|中学生|高校生|小学生|学生)"
    r"(?:さん|様|たち)?(?:が|は|も|同士)[^。、]{0,10}$"
)
_AMONG_THEMSELVES_BEFORE = re.compile(r"(?:同士(?:が|で|の|は)?|片方が|もう片方に|一方が|お互い)[^。]{0,30}$")  # 「利用者同士で」「順番待ちの人同士が」
_AMONG_THEMSELVES_AFTER = re.compile(r"^[^。]{0,20}?同士(?:が|で|の|は|です|だ|でし)")  # 「列の割り込みでお客さん同士が言い争い」
_HYPOTHETICAL_AFTER = re.compile(
    r"^[^。、！？!?\n]{0,10}?(?:たら(?![いしな])|れば|場合|ような(?:とき|時)|(?:とき|時)(?:の(?:ため|対応|対処|備え)|に備え|は(?:どう|どの|何))|(?:とき|時|場合)の[^。、]{0,6}?(?:通報先|相談先|連絡先|対応|対処|方法|流れ|窓口|方を|仕方|一言|返し|言い方|かわし方|断り方)|(?:人|相手|客|場合)(?:に|には|へは|って|は)(?:どう|何て|なんて|どの)|なら(?:ば)?(?![なんない]))"
)
# 「土下座したら許してやる」: the customer's condition, a demand rather than a hypothetical.
_CONDITIONAL_DEMAND_AFTER = re.compile(
    r"^[^。、]{0,7}?(?:(?:たら|れば)[、]?(?:許|勘弁|帰って?や|考えてや|やめてや|認めてや|終わりにしてや)|ないなら|ねえなら|ないんなら|なければ|なきゃ)"
    # 「議員に電話一本すればお前ら終わりだ」: the condition is the threat
    r"|^[^。、]{0,7}?(?:たら|れば)[、]?[^。、]{0,4}?(?:終わり|おしまい|クビ|首が飛|覚悟|どうなるか)"
)
_QUESTION_AFTER = re.compile(
    r"^[^。]{0,12}?(?:た|る)(?:とき|時)(?:、|は|に)[^。]{0,24}?(?:[?？]|いけない|べき|ですか|でしょうか|いいの)|"
    r"^[^。]{0,6}?(?:しないと|しなきゃ|しなければ)(?:いけ|だめ|ダメ|なら)[^。]{0,8}?(?:[?？]|か|の?$)|"
    r"^[^。！？!?\n]{0,16}?のは[^。]{0,12}?(?:型|カスハラ|ハラスメント|罪|違法|犯罪)(?:ですか|でしょうか|になり|に当た|にあた|なの|です[?？])|"
    r"^[^。！？!?\nた]{0,14}?(?:罪|犯罪|違法|法律)?(?:(?<![顔頭体肩手腕足目胸背額])(?:にあた|に当た)(?:り(?:ます|ません)?(?:か|[?？])|る(?:の|ん)?(?:です|でしょう)?(?:か|[?？]))|に該当|になり(?:ます|え(?:ます|る))(?:か|[?？]|の)|になる(?:の|ん)?(?:です|でしょう)?か|に含まれ|って(?:なに|何)(?:です|でしょう|[?？]|$)|とは何|の定義|かどうか)"
)
# 「殺すな」「殴るなよ」, 「殺さないで」: what the customer asks others not to do.
_PROHIBITION_AFTER = re.compile(r"^(?:な(?:よ|ー|っ|[!！」』。、]|って|と|$)|ないで|ないでください|ないでほしい|ないでくれ)")
_PASSIVE_NEAR = re.compile(r"^[^。、「」]{0,6}?(?:れ|られ)(?:た|て|る|ま)")
_APOLOGY_AFTER = re.compile(r"^[^。]{0,10}?(?:すみません|すいません|申し訳|ごめんなさい)")
_PASSIVE_SURFACE = re.compile(r"[かがさたなばまらわ]れ(?:た|て|ま|る)?$")  # 「押された」「殴られ」
_PASSIVE_AFTER = re.compile(r"^[かがさたなばまらわいきしちにびみりっんえけせてねべめれ]{0,2}(?:れ|られ)")
_EMPLOYEE_ACT_AFTER = re.compile(r"^[^。！？!?\n]{0,6}?(?:てしま|でしま|ちゃっ|ちゃい|じゃっ)")
_COMPLAINT_AFTER = re.compile(
    r"^[^。！？!?\n「」]{0,10}?(?:という|との|と|って)(?:ご?意見|苦情|クレーム|訴え|抗議|申し出|お叱り)"
)
# 「脅されたという住民の方が相談に来ています」: someone brought the harm to us (「〜という相談です」 alone is
# the employee's own consultation, so the consultation must be someone else's).
_CONSULTATION_AFTER = re.compile(
    r"^[^。！？!?\n「」]{0,4}?(?:と|って)(?:の)?(?:ご?相談|通報)(?:に|で)(?:来|見え|いらっしゃ|訪れ)|"
    r"^[^。、]{0,4}?(?:被害)?の(?:ご?相談)(?:で|に)(?:来|見え|いらっしゃ|訪れ)|"
    r"^[^。！？!?\n「」]{0,30}?(?:という|との|と)[^。「」]{0,14}?(?:方|人|住民|市民|女性|男性|利用者|お客様|相談者|保護者|家族|患者さん)(?:さん|様)?(?:が|から)[^。「」]{0,6}?(?:相談|通報|の(?:メール|電話|お電話|手紙|問い合わせ))"
    r"|^[^。！？!?\n「」]{0,10}?(?:という|との)(?:ご?相談|通報)(?:に来|を受け|があり|がありました|の(?:電話|メール)|が(?:来|入))"
    r"|^[^。！？!?\n「」]{0,10}?(?:と|って)[^。「」]{0,8}?(?:相談|通報)して(?:き|来)"
)
_STAFF_SPEAKER_BEFORE = re.compile(r"(?:私|わたし|自分|僕|こちら|当方|同僚|課長|係長|部長|所長|店長|主任|上司|先輩)(?:が|は|も)(?:つい|思わず|うっかり)?$")
_STAFF_WORD = re.compile(r"職員|係員|担当|窓口の人")
# the family of the one being served is a customer too: 「患者さんのご家族」「利用者のお母さん」
_CUSTOMER_SIDE_BEFORE = re.compile(r"(?:患者|利用者|入居者|お客|客|来庁者|来所者|生徒|児童|園児|教習生|受給者|相談者|訪問先|お宅|相手)(?:さん|様)?の(?:ご|お)?$")
# 「近所の人に『殺すぞ』と脅された」: the words quoted were said to someone else.
_SAID_TO_AFTER = re.compile(r"^(?:と|って)[^。、「」]{0,6}?(?:れ|られ)(?:た|て|る|ま)")
_INJURY = re.compile(r"けが|怪我|ケガ|傷害|流血")
_ACCIDENT_NEAR = re.compile(r"車[^。、]{0,3}(?:ぶつけ|こすら|当てら)|転ん|転倒|転び|ころん|つまず|躓|滑っ|すべっ|落ち(?!着|込|つ)|事故|ぶつけて|段差|階段で|遊具")

# Repeated calls or questions that come from confusion, loneliness or the office's own
# failure to call back: 「認知症っぽい方が同じ質問を何度も」「折り返しがないと何度も電話」.
_BENIGN_REPEAT_NEAR = re.compile(
    r"認知症|物忘れ|もの忘れ|忘れてしま|耳が遠|聞こえにく|話し相手|寂し|さみし|理解が難し|覚えられない|悪意はな|普通の(?:質問|問い合わせ|内容)|違う内容"
    r"|折り返し(?:が|の電話が)?(?:ない|なく|来ない|こない|忘れ)"
)

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
    ``negated``, ``opinion``, ``story``, ``prohibition``, ``animal``, ``victim_report``, ``accident``, ``benign_repeat``,
    ``third_party``, ``employee``, ``goods``, ``referral``, ``praise``, ``claim``, ``polite``.
    """
    sentence_start, sentence_end = _sentence_bounds(norm, start, end)
    before = norm[sentence_start:start]
    after = norm[end:sentence_end]
    violent = code is None or code in VIOLENT_CODES
    surface = norm[start:end]
    passive = bool(_PASSIVE_AFTER.match(after)) or after.startswith(("を受け", "をうけ", "に遭")) or bool(_PASSIVE_SURFACE.search(surface))
    conditional_demand = _CONDITIONAL_DEMAND_AFTER.match(after)
    if not conditional_demand and (_HYPOTHETICAL_BEFORE.search(before) or _HYPOTHETICAL_AFTER.match(after)):
        return "hypothetical"
    if _QUESTION_AFTER.match(after) or _PERMISSION_AFTER.match(after):
        return "question"
    if code in TOPIC_CODES and _TOPIC_AFTER.match(after):
        return "question"
    if _QUOTE_DENIED_AFTER.match(after) or _NEGATED_AFTER.match(after) or _WORD_NOT_SAID_AFTER.match(after):
        return "negated"
    if violent and (_HYPERBOLE_AFTER.match(after) or _OPINION_AFTER.match(after) or (before.endswith("見") and surface.startswith("殺"))):
        return "opinion"  # 「見殺しにするな」 too
    if violent and not passive and _GAME_BEFORE.search(before):  # 「試合の件で窓口で殴られた」 stays conduct
        return "story"
    if _JOKE_BEFORE.search(before) or _JOKE_AFTER.match(after):
        return "joke"
    if _FICTION_BEFORE.search(before) or _FICTION_AFTER.match(after) or _TITLE_BEFORE.search(before):
        return "story"
    if violent and (_GOODS_AFTER.match(after) or _GOODS_BEFORE.search(before)):
        return "goods"
    sentence = norm[sentence_start:sentence_end]
    if code in _PRAISE_CODES and _PRAISE_NEAR.search(sentence):
        return "praise"
    if code == "sns_exposure" and _CLAIM_NEAR.search(sentence):
        return "claim"
    if _WRONGDOER_SURFACE.fullmatch(surface) and _WRONGDOER_AFTER.match(after):
        return "victim_report"
    if code == "authority_pressure" and _REFERRAL_AFTER.match(after):
        return "referral"
    if code == "personal_attack" and _INSTITUTION_BEFORE.search(before):
        return "question"
    if _STORY_BEFORE.search(before) and _STORY_AFTER.match(after):
        return "story"
    if violent and _PROHIBITION_AFTER.match(after) and (norm[end - 1] in "うくぐすつぬぶむる" or after.startswith("ない")):
        return "prohibition"
    if violent and _ANIMAL_BEFORE.search(before):
        return "animal"
    if violent and _ACCIDENT_NEAR.search(norm[sentence_start:sentence_end]) and not _customer_act_near(norm, start, end):
        return "accident"
    if _APOLOGY_AFTER.match(after):
        return "polite"
    if code == "persistent" and _BENIGN_REPEAT_NEAR.search(norm):
        return "benign_repeat"
    passive = passive or bool(_PASSIVE_NEAR.match(after))
    quote = _quote_around(norm, start, end, sentence_start, sentence_end)
    said_to_staff = False
    if quote is not None:  # the words of a quotation: who heard them comes after its end
        before_quote, after_quote = norm[sentence_start : quote[0]], norm[quote[1] + 1 : sentence_end]
        if _SAID_TO_AFTER.match(after_quote):
            passive = True
            agent = _VICTIM_BEFORE.search(before_quote) or _OTHER_AGENT_BEFORE.search(before_quote)
            # 「職員に『…』と言われた」; 「患者さんのご家族に『…』と言われました」 is a customer speaking to the
            # employee, 「近所の人に『殺すぞ』と脅された（という住民）」 someone else's dispute.
            said_to_staff = bool(agent and (_STAFF_WORD.match(agent.group()) or _CUSTOMER_SIDE_BEFORE.search(before_quote[: agent.start()])))
            if agent and not said_to_staff:
                return "third_party"
        inside = norm[quote[0] + 1 : start]
        if passive and (_VICTIM_BEFORE.search(inside) or _other_agent(inside, anywhere=True)):
            return "third_party"  # 「夫に殴られた」: the one quoted was harmed by someone else
        if _STAFF_SPEAKER_BEFORE.search(before_quote):
            return "employee"  # 課長が「謝罪文をお出しします」と: staff's own words
        before, after = before_quote, after_quote
    if _CUSTOMER_HARMED_AFTER.match(after):
        return "victim_report"
    if _CONSULTATION_AFTER.match(after) or ((passive or _INJURY.search(norm, start, end)) and _COMPLAINT_AFTER.match(after)):
        return "victim_report"
    if _AMONG_THEMSELVES_BEFORE.search(before) or _AMONG_THEMSELVES_AFTER.match(after):
        return "third_party"
    if _FROM_OTHER_AGENT_BEFORE.search(before):
        return "third_party"
    if passive and not said_to_staff and (_VICTIM_BEFORE.search(before) or _other_agent(before)):
        return "third_party"
    if not passive and _THIRD_PARTY_SUBJECT_BEFORE.search(before):
        return "third_party"
    if not passive and (_EMPLOYEE_ACT_AFTER.match(after) and _EMPLOYEE_SUBJECT_BEFORE.search(before)):
        return "employee"
    if not passive and _employee_is_subject(before) and not _UNDERWENT_AFTER.match(after):
        return "employee"
    return None


_OTHER_AGENT_ANYWHERE = re.compile(_BY_OTHER_AGENT)
_QUOTATION = re.compile(r"[「『][^「」『』]*[」』]")


def _other_agent(before: str, *, anywhere: bool = False) -> bool:
    """Someone other than the customer did it (「業者に『…』と脅された」; the quotation does not count
    toward the distance); the family of the one being served is the customer (「利用者の父親に」)."""
    pattern = _OTHER_AGENT_ANYWHERE if anywhere else _OTHER_AGENT_BEFORE
    text = before if anywhere else _QUOTATION.sub("「」", before)
    match = pattern.search(text)
    return match is not None and not _CUSTOMER_SIDE_BEFORE.search(text[: match.start()])


def _quote_around(norm: str, start: int, end: int, sentence_start: int, sentence_end: int) -> tuple[int, int] | None:
    """(opening, closing) bracket positions of the 「」 quotation holding ``norm[start:end]``, if any."""
    opening = max(norm.rfind("「", sentence_start, start), norm.rfind("『", sentence_start, start))
    if opening < 0 or any(c in norm[opening + 1 : start] for c in "」』"):
        return None
    closing = min((i for i in (norm.find("」", end, sentence_end), norm.find("』", end, sentence_end)) if i >= 0), default=-1)
    return (opening, closing) if closing >= 0 else None


def _employee_is_subject(before: str) -> bool:
    """「私が何度も電話をかけ直しました」「こちらから謝罪文を送った」: the employee acted."""
    last = None
    for last in _FIRST_PERSON.finditer(before):
        pass
    return last is not None and not _OTHER_SUBJECT.search(before, last.end())


_CUSTOMER_ACT = re.compile(r"突き飛ばさ|押さ?れ|蹴ら|殴ら|叩か|つかま|掴ま|投げ|倒さ|させられ|負わされ")


def _customer_act_near(norm: str, start: int, end: int) -> bool:
    sentence_start, sentence_end = _sentence_bounds(norm, start, end)
    return bool(_CUSTOMER_ACT.search(norm, sentence_start, sentence_end))
