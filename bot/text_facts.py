"""Facts a message states, read from its words (pure Python; no Rasa or spaCy).

:func:`read_facts` returns only the facts the text states, so the dialogue never asks for
what the employee already said (「こちらのミスで書類が届いておらず…」 → ``our_fault`` True) and
takes a later statement as a correction (「やっぱり不備はなかった」 → ``our_fault`` False):

====================  ==========  ==================================================
key                   type        read from
====================  ==========  ==================================================
our_fault             bool        こちらのミスで / 不備はありません
demand_related        bool        業務に関係があります / 業務とは関係ない
identified            bool        名前はわかっています / 名乗らない・匿名
recorded              bool        録音しています / 記録はとれていません
alone                 bool        一人で対応 / 上司が同席
ongoing               bool        いま対応中 / 昨日の件・もう帰りました
situation_channel     str         a code of SituationChannel (電話・窓口・メール…)
elapsed_minutes       int         2時間 / いや、９０分です (bot.durations)
self_harm             bool        the customer says they will kill themselves (死んでやる)
warned                bool        the employee asked them to stop or warned them
continued_after_      bool        they went on after that (注意してもやめない)
warning
deadlock              bool        同じ話の繰り返し・平行線 / 話は進んでいる (膠着)
public                bool        大勢の前で・ネットに書き込まれた / 一対一・まだ投稿はない
money_demanded        bool        金を払え・返金しろ・慰謝料を請求 / お金の要求はない
injured               bool        殴られてけがをした / けがはない
property_damaged      bool        パソコンを壊された・窓ガラスを割られた / 壊されてはいない
vulnerable            bool        認知症のよう・話がかみ合わない・寂しい / しっかりされている
====================  ==========  ==================================================

A threat to post (「ネットに晒すぞ」) is not ``public``: only what was said before others or
posted is. A citizen's own accident (「転んでケガをした」という苦情) is not ``injured``.

:func:`record_notes` reads what only the record keeps: the staff present (「係長と二人で対応」),
what was apologised for (「〜についてお詫びしました」) and the answers given and how often
(「3回説明しました」「同じ説明を三回」).

``asking`` (the fact the bot has just asked about) lets a short typed answer count: 「あった」
answers 「ミスや不備はありましたか？」, 「一人です」 「お一人で対応していますか？」.

:func:`danger_cues` finds explicit danger to staff (a weapon shown, being hit, fire or an
explicit threat to harm, being locked in); words for the same things in a hypothetical, a
quoted prohibition (「クマを殺すな」) or a citizen's own injury are not danger.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from bot.codes import DangerCue, SituationChannel
from bot.conduct import not_conduct_reason
from bot.durations import count_of, parse_minutes
from bot.lexicon import find_channels, is_negated, mentions_refusal_to_leave, normalise

FACT_KEYS = (
    "our_fault",
    "demand_related",
    "identified",
    "recorded",
    "alone",
    "ongoing",
    "situation_channel",
    "elapsed_minutes",
    "self_harm",
    "warned",
    "continued_after_warning",
    "deadlock",
    "public",
    "money_demanded",
    "injured",
    "property_damaged",
    "vulnerable",
)

_NEGATION = re.compile(
    r"^(?:で|じゃ)?(?:は|も)?(?:特に|一切|全く|まったく|何も)?"
    r"(?:ない|無い|なかった|無かった|なく|ありません|ありませんでした|ございません|なし|無し|ません|ねえ)"
)
_UNSURE = re.compile(r"^[^。、]{0,8}?(?:かどうか|か(?:は)?(?:わから|分から|不明)|かも)")


def _negated_here(norm: str, end: int) -> bool:
    return bool(_NEGATION.match(norm[end:]) or is_negated(norm, end))


def _polarity(norm: str, positive: re.Pattern, negative: re.Pattern | None = None) -> bool | None:
    """The last statement about a fact wins: a positive phrase (negated → False) or a negative one."""
    found: list[tuple[int, bool]] = []
    for match in positive.finditer(norm):
        if _UNSURE.match(norm[match.end():]):
            continue
        found.append((match.start(), not _negated_here(norm, match.end())))
    if negative is not None:
        found += [(match.start(), False) for match in negative.finditer(norm)]
    return max(found)[1] if found else None


def _answer(norm: str, yes: str, no: str) -> bool | None:
    """A short typed answer to a yes/no question: the whole message is (nearly) the answer."""
    short = re.sub(r"[\s。、.!！?？ー〜~…]+", "", norm)
    short = re.sub(r"^(?:えっと|えーと|あの|いや|いえ|うーん|やっぱり|たぶん|多分)+(?=.)", "", short)
    short = re.sub(r"いません$", "いない", short)
    short = re.sub(r"(?:です|でした|ます|ました|だ|よ|ね|と思います|と思う|かな)+$", "", short)
    if re.fullmatch(no, short):
        return False
    if re.fullmatch(yes, short):
        return True
    return None


_YES = r"はい|ええ|うん|そう|そうです|あり|ある|あった|あります|ありました|いる|います"
_NO = r"いいえ|いや|ない|なし|なかった|ありません|ありませんでした|いない|いません"

# --- our_fault ---------------------------------------------------------------------------
_OUR_SIDE = (
    r"(?:こちら|こっち|うち|当方|当社|弊社|当課|私たち|わたしたち|我々|役所|市役所|区役所|役場|職員|担当者?|組織|自分たち|私|わたし|窓口)"
    r"(?:側|がわ)?(?:の|に|で)(?:も|は)?"
)
_FAULT_NOUN = (
    r"(?:ミス|みす|不備|手違い|落ち度|不手際|過失|誤り|間違い|手落ち|不注意|誤送付|誤記|記載漏れ|連絡漏れ|案内漏れ|説明不足|確認不足|ミス|非)"
)
_OUR_FAULT = re.compile(
    rf"{_OUR_SIDE}{_FAULT_NOUN}|(?<!に)(?<!非){_FAULT_NOUN}(?<!非)(?=が(?:あ|有))|(?:こちら|うち|当方)が(?:悪い|悪かった|間違え)"
    r"|(?:誤って|間違って|間違えて)(?:送|記載|案内|請求|通知|説明|入力|処理)|(?:送り|出し|伝え)忘れ"
    r"|(?:送付|発送|通知|連絡|案内|記載|請求|計算|手続き|処理|入力|説明)(?:額|内容|書|先)?(?:が|に|も)(?:漏れ|間違っ|誤っ|遅れ)(?:て(?:い|お)|た|ました)"
)
_NO_FAULT = re.compile(
    rf"{_FAULT_NOUN}(?:は|も)(?:特に|一切|全く|何も)?(?:ない|無い|なかった|ありません|なし|無し|ございません)"
    r"|規定(?:通り|どおり)の(?:対応|処理|手続き)|(?:対応|手続き|処理|案内)(?:は|に)(?:問題|間違い)(?:は|も)?(?:ない|ありません|なかった)"
)

# --- demand_related ----------------------------------------------------------------------
_BUSINESS = r"(?:業務|仕事|サービス|手続き?|申請|窓口業務|担当業務|所管|うちの(?:業務|仕事)|こちらの(?:業務|仕事))"
_RELATED = re.compile(rf"{_BUSINESS}(?:に|と)(?:は|も)?(?:関係|関連)(?:が|は|の|も)?(?:ある|あり|あります|してい|します|する)")
_UNRELATED = re.compile(
    rf"{_BUSINESS}(?:に|と)(?:は|も)?(?:関係|関連)(?:が|は|の|も)?(?:ない|無い|なく|ありません|なかった)|{_BUSINESS}(?:とは)?無関係|業務外|所管外|管轄外"
)

# --- identified --------------------------------------------------------------------------
_PERSON_DATA = r"(?:氏名|名前|なまえ|お名前|身元|連絡先|住所|電話番号|会員番号|顧客番号|お客様番号|素性)"
_IDENTIFIED = re.compile(
    rf"{_PERSON_DATA}(?:を|も|は)?(?:わかって|分かって|判明|把握|控え|確認(?:済|でき|して|しま|し)|聞いて(?:い|あ|お|ま)|聞き取|伺って|うかがって|メモし|名乗っ)"
    r"|名乗って(?:い|くれ|ます|た)|名乗りました|常連(?:の|さん|客)|顔見知り|(?:いつも|よく)(?:来る|来られる)(?:方|人)"
)
_ANONYMOUS = re.compile(
    rf"{_PERSON_DATA}(?:は|も|を)?(?:(?:わから|分から|不明|名乗ら|言わ|教えて(?:くれ|もらえ)|聞けて|聞き出せ)(?:ない|ず|ません|なかった)|(?:わかり|分かり)ません|不明)"
    r"|名乗ら(?:ない|ず|なかった)|名乗ろうとしない|匿名|非通知|身元不明|誰だか(?:わから|分から)|どこの誰"
)

# --- recorded ----------------------------------------------------------------------------
_RECORDED = re.compile(
    r"(?<![に])録音(?:して|中|済|を(?:して|開始|始め|とって|取って|回して|とり|取り)|でき|し(?:ました|てます|ている|てあ)|あり|されて|がある|は(?:とって|取って|して|とれ|取れ|あり))"
    r"|録画(?:して(?:い|ま|る|あ))|通話録音|自動録音"
    r"|(?:メモ|記録|議事録|対応記録|経過記録|やり取り)(?:を|は|も)?(?:とって|取って|とれて|取れて|残して|残って|つけて|付けて|して(?:い|ま|る|あ)|とりながら|取りながら|とった|取った|とりました|取りました|残した|あり|作成|保存)"
    r"|メモ(?:して|しながら|中)|書き留め"
)
_NOT_RECORDED = re.compile(r"(?:録音|録画|記録|メモ)(?:は|も)(?:特に|何も)?(?:ない|無い|なし|無し|ありません|していません|してない|とってない|取ってない)")
# The customer recording or threatening to publish a recording is not the employee's record.
_THEIR_RECORDING = re.compile(
    r"(?:相手|先方|客|男性|女性|向こう|お客(?:さん|様)?|その人)(?:が|は|も)[^。、]{0,10}録(?:音|画)|録(?:音|画)して(?:ネット|sns|公開|流|晒|拡散|上げ|アップ)"
)

# --- alone -------------------------------------------------------------------------------
_ONE = r"(?:一人|ひとり|1人|独り)"
# Colleagues who may be there with the employee (also what record_notes keeps as staff present).
_ROLE = (
    r"(?:課長補佐|課長|係長|主任|主査|所長|室長|部長|次長|店長|副店長|センター長|班長|リーダー|上司|管理職|同僚|先輩|後輩"
    r"|警備員?|ほかの職員|他の職員|別の職員|応援の職員)"
)
_ALONE = re.compile(
    rf"{_ONE}(?:で|きり|だけ)(?:で)?(?:対応|受け|いる|います|い(?:ま|る)|窓口|電話|やって|応対|残って)"
    rf"|(?:私|わたし|自分|僕|俺){_ONE}|^{_ONE}(?:です|だけ|きり|で)?(?:です)?[。!！]?$|{_ONE}(?:しか)(?:いない|いません)"
    r"|(?:周り|まわり|他|ほか)に(?:は)?(?:誰も|職員(?:は|が)?|人(?:は|が)?)(?:いない|いません)|一人対応|ワンオペ"
)
_NOT_ALONE = re.compile(
    r"(?:二人|ふたり|2人|3人|三人|複数|数人|何人か)(?:で|体制)|複数(?:です|人)"
    rf"|(?:{_ROLE}|応援)(?:が|も|と|に)(?:一緒|同席|隣|となり|横|そば|近く|来て|駆けつけ|いて|います|いる|入って|対応|代わ|替わ|二人|ふたり|2人)"
    r"|同席(?:して|中|しています|してもら)|応援(?:を|が)(?:呼|来|頼)"
    rf"|{_ONE}(?:じゃ|では)(?:ない|ありません|なかった)"
)

# --- ongoing -----------------------------------------------------------------------------
_LIVE = re.compile(
    r"(?:いま|今|現在|ただいま|只今)(?:も|まさに|、)?(?:対応中|目の前|窓口に|電話中|通話中|続いて|続行中|話して|居座|怒鳴|対応して|来て|いる|います|電話が)"
    r"|(?:いま|今)(?![日回度週月年朝後晩夜まで])[^。]{0,12}?(?:ています|ている|てる|ていて|でいます|でいる)"
    r"|対応中|通話中|電話中|まだ(?:居|い(?:る|ます)|続|電話|怒|帰らな|帰って(?:い)?な|切れ|つなが)|進行中|目の前に(?:い|居)|保留に(?:して|しています)|真っ最中|リアルタイム"
)
_PAST = re.compile(
    r"昨日|きのう|先日|先週|先月|昨年|去年|おととい|一昨日|前回|(?:\d+|[一二三四五六七八九十数]+)(?:日|週間|か月|ヶ月|カ月|年)前"
    r"|終わった|終わりました|終わって|終わり(?:です|ました)|終了し|済んだ|済みました|帰った|帰りました|帰っていき|帰って行き|帰っていった|帰って行った"
    r"|(?:電話|通話)(?:は|が)?(?:切れ|終わ)|切れました|(?:電話|通話)を切りました|対応後|終わった(?:後|あと)|さっきまで|振り返"
)

# --- self harm, warnings ----------------------------------------------------------------
_SELF_HARM = re.compile(
    r"死んでやる|死んでやろう|死んでやります|ここで死ぬ|(?:自殺|自死)(?:する|してやる|します|をほのめか|しようと|すると|してや|をする)|首を(?:吊|つ)(?:る|って)"
    r"|飛び降り(?:る|てやる|ます|てや)|命を絶|(?:死に|しに)(?:ます|たい)(?:と|って)|死ぬ(?:しかない|つもり|から)|自殺をほのめか|死ぬと(?:言|ほのめか)"
)
_WARNED = re.compile(
    r"(?:やめて|止めて|おやめ|お控え|控えて)(?:ください|下さい|くれ|ほしい|欲しい|いただけ(?:ます|ません)か|もらえ(?:ます|ません)か)?[」』]?(?:と|って)(?:何度も|再三|はっきり)?(?:言|伝|お願い|注意|頼|警告|申し上げ)"
    r"|注意(?:した|しました|しても|したが|したけど|したのに|を(?:し|促))|警告(?:した|しました|しても|したが|したけど|したのに|を(?:し|出))|制止(?:した|しました|しても|したが)"
    r"|(?:退去|退出)(?:を|して(?:ほしい|ください)と)?(?:求め|お願い|命じ|促|要請)|お引き?取り(?:ください|下さい|いただ|を(?:お願い|求め))"
    r"|(?:これ以上|次に?|まだ)(?:続く|続け|同じ)[^。]{0,14}(?:警察|対応を(?:終|打ち切)|通報|終了|お断り)[^。]{0,10}(?:と|って)(?:伝え|言い|言っ|告げ|警告)"
    r"|録音(?:する|します|している|しています)(?:旨|こと)を(?:伝え|告げ|お伝え)|録音(?:しています|してます|します|する)[」』]?(?:と|って)(?:伝え|言っ|告げ|お伝え)"
)
_CONTINUED = re.compile(
    r"^[^。]{0,24}?(?:それでも|でも|のに|なのに|が|けど|けれど|ても|たが|たけど|ましたが|たら|と、)[^。]{0,24}?"
    r"(?:やめ(?:ない|ず|てくれない|ようとしない|ません|なかった)|止ま(?:らない|りません|らず)|止め(?:ない|ません)|続け|続いて|続く|おさまら|収まら|エスカレート|ひどくな|余計に|さらに|"
    r"無視|聞かない|聞き入れ|応じ(?:ない|ず|ません)|帰らない|帰りません|居座|変わら(?:ない|ず)|同じ)"
)

# --- deadlock (膠着) ----------------------------------------------------------------------
_TIMES = r"(?:何度|何回|[0-9]+(?:回|度)|[一二三四五六七八九十]+(?:回|度))"
_DEADLOCK = re.compile(
    r"同じ(?:話|こと|主張|要求|内容|質問|説明)(?:の|を)?(?:繰り返|くりかえ|堂々巡り|ループ)|堂々巡り|平行線|押し問答|話が(?:進ま|前に進ま|まとまら)"
    rf"|(?:{_TIMES}(?:も)?)?(?:説明|回答|お答え|ご説明)(?:を)?(?:{_TIMES}(?:も)?)?(?:しても|したが|したけど|しましたが|したのに|したものの)[^。]{{0,16}}?"
    r"(?:納得|理解|聞き入れ|わかって|分かって)(?:して|され|いただけ|もらえ|くれ)?(?:ない|ません|ず|ていない)"
    r"|納得(?:されず|してもらえず|していただけず|してくれず|しない|されない|してもらえない|していただけない)"
)
_NO_DEADLOCK = re.compile(r"話(?:は|が)(?:進んで|まとまり|まとまっ)|納得(?:して(?:くれ|もらえ|いただけ)(?:た|ました)|されました|された)")

# --- public -------------------------------------------------------------------------------
_ONLOOKERS = (
    r"(?:人前|大勢の(?:人の)?|皆の|みんなの|(?:ほかの|他の|周りの|まわりの)(?:お客(?:様|さん)?|客|人|方|利用者|来庁者)|来庁者の|利用者の|待合(?:室)?|ロビー)"
)
_POSTED = r"(?:書き込|投稿|掲載|アップ|拡散|晒|さら|載せ|書か|up)"
_PUBLIC = re.compile(
    rf"{_ONLOOKERS}(?:で|前で|の前で|の目の前で|に聞こえ|がいる|が見て|もいる|もいて)"
    rf"|(?:ネット|sns|x|ツイッター|twitter|インスタ|掲示板|口コミ|くちこみ|レビュー|ブログ|youtube|動画サイト|ホームページ)[^。]{{0,16}}?{_POSTED}"
    r"(?:され|まれ|れ|られ)(?:ました|た(?!ら|く|い)|ています|ている|てしまい|てい(?:た|まし))"
    rf"|{_POSTED}(?:んで|して)(?:い(?:る|ます|ました|た)|あ(?:る|ります|りました))"
)
_NOT_PUBLIC = re.compile(
    r"一対一|1対1|二人きり|ふたりきり|周りに(?:は)?(?:誰も|人は|ほかの人は|他の人は)(?:いな|いませ)"
    rf"|(?:まだ)?(?:投稿|書き込み)(?:は|も)(?:まだ)?(?:ない|無い|ありません|されていません|されてない)"
    r"|まだ(?:投稿|書き込|拡散)(?:は)?(?:されて|まれて)?(?:い)?(?:ない|ません)"
)

# --- money --------------------------------------------------------------------------------
_MONEY = r"(?:お金|金|かね|現金|金銭|返金|弁償|賠償|慰謝料|補償|治療費|交通費|損害|代金|迷惑料|示談金|[0-9]+万?円|[一二三四五六七八九十百千]+万円)"
_MONEY_DEMANDED = re.compile(
    rf"{_MONEY}(?:を|も)?(?:払え|はらえ|払わ(?:せ|ん)|よこせ|出せ|だせ|返せ|かえせ|払って|返して|しろ|せよ|して(?:ほしい|欲しい|くれ)|求め|要求|請求|払うよう)"
    rf"|{_MONEY}(?:の|を)(?:要求|請求|支払い)"
    r"|金で解決|(?:払え|よこせ)(?:よ|って|と)"
)
_NO_MONEY = re.compile(r"(?:お金|金銭|返金)(?:の|を)?(?:要求|請求|話)(?:は|も)(?:ない|無い|ありません|なかった|出ていません|されていません)")
_MONEY_WORD = re.compile(rf"^(?:{_MONEY})(?:です|してほしい|して欲しい|の要求|を求めています|を要求されています)?$")

# --- injury and damage --------------------------------------------------------------------
_HURT = r"(?:けが|ケガ|怪我|負傷|出血|血が出|あざ|打撲|骨折|ねんざ|捻挫|すり傷|擦り傷|ひっかき傷|引っかき傷)"
_INJURED = re.compile(
    r"(?:殴ら|なぐら|叩か|たたか|蹴ら|けら|突き飛ばさ|押し倒さ|押さ|引っかか|ひっかか|噛ま|つねら|投げつけら|ぶつけら|首を絞めら)れ"
    rf"[^。]{{0,20}}?{_HURT}"
    rf"|(?:{_ROLE}|私|わたし|自分|職員|担当者?)(?:が|は|も)[^。]{{0,12}}?{_HURT}(?:を)?(?:し|負|させられ|を負わされ)"
    rf"|{_HURT}(?:を)?(?:させられ|負わされ)|{_HURT}(?:人|にん)(?:が|も)(?:出|い)"
)
_NOT_INJURED = re.compile(
    rf"{_HURT}(?:は|も)(?:特に|幸い)?(?:ない|無い|ありません|なかった|していません|してない|なし|ありませんでした)|{_HURT}人は(?:い)?(?:ない|いません|出ていません)"
)
_OBJECT = (
    r"(?:物|もの|備品|パソコン|pc|机|つくえ|椅子|いす|イス|ドア|扉|窓|ガラス|カウンター|パーテーション|アクリル板|仕切り|掲示物|ポスター"
    r"|パンフレット|書類|申請書|電話機|電話|モニター|画面|プリンター|スマホ|携帯|眼鏡|メガネ|めがね|名札|看板|ロッカー|棚|壁|公用車)"
)
_PROPERTY_DAMAGED = re.compile(
    rf"{_OBJECT}(?:を|が|まで)[^。、]{{0,8}}?(?:壊|こわ|割|わ(?=られ)|破|やぶ|叩き割|たたき割|蹴り壊|へこま|傷つけ|ひっくり返|倒|投げ壊)"
    r"(?:され|れ|ら|られ|し|っ)(?:れ)?(?:ました|た(?!ら|く)|て(?:い|しま|き|いき|いった))"
)
_NOT_DAMAGED = re.compile(r"(?:壊|割|破)(?:され|れ)(?:ては|て)?(?:は)?(?:い)?(?:ない|ません)|(?:物|備品)の被害は(?:ない|ありません)")

# --- a caller who may need support --------------------------------------------------------
_VULNERABLE = re.compile(
    r"認知症|物忘れ|もの忘れ|ものわすれ|記憶が(?:あいまい|曖昧|はっきりしない)|混乱(?:され|している様子|気味|しておられ)"
    r"|(?:話|会話)が(?:かみ合わ|噛み合わ|かみあわ|通じ)|寂しい|さみしい|さびしい|寂しそう|さみしそう|話し相手が(?:いない|ほしい|欲しい)"
    r"|身寄りが(?:ない|いない)|孤独|孤立|独居|一人暮らしの(?:高齢|お年寄り)|高齢の一人暮らし"
)
_NOT_VULNERABLE = re.compile(r"しっかり(?:されて|して)(?:いる|います|いた|いました|おられ)|認知症(?:では|じゃ)(?:ない|ありません)")

# --- what only the record keeps -----------------------------------------------------------
_STAFF = re.compile(
    rf"({_ROLE})(?:の[^。、]{{1,8}}?さん)?(?:と|が|も)(?:一緒|同席|隣|となり|横|そば|来て|駆けつけ|立ち会|入って|対応|二人|ふたり|2人|三人|3人)"
    rf"|({_ROLE})(?:に|から)(?:同席|立ち会|応援|来)"
)
_APOLOGISED = re.compile(
    r"([^。、「」\n]{2,40}?)(?:について|に関して|の件で|の件を|の点について|の点を|を)(?:は)?(?:お詫び|おわび|謝罪|陳謝|お謝り)"
    r"(?:しました|した|いたしました|をしました|をいたしました|しています|しております|済み)"
)
_COUNT = r"([0-9]+|[一二三四五六七八九十]+)(?:回|度)"
_ANSWER_VERB = r"(?:説明|回答|お答え|答え|案内|ご案内|ご説明|返答|お伝え)"
_ANSWER_COUNT = re.compile(
    rf"{_COUNT}(?:も|ほど|くらい|ぐらい|以上|、)*(?:同じ)?(?:内容の|ように)?{_ANSWER_VERB}"
    rf"|同じ{_ANSWER_VERB}を{_COUNT}|{_ANSWER_VERB}(?:を)?(?:同じ内容で|同じように)?{_COUNT}"
)
_POLICE_CALLED = re.compile(
    r"(?:110番|警察)(?:に|へ|を)?(?:通報|連絡|電話)?(?:しました|した|済み|してもらいました|してもらった|しています)"
    r"|警察を呼(?:びました|んだ|んでもらいました|んでもらった)|警察(?:官)?が(?:来|駆けつけ|到着)(?:ました|た|て)"
)
_ANSWER_GIVEN = re.compile(
    rf"[「『]([^「」『』]{{2,80}})[」』](?:と|って)[^。]{{0,12}}?{_ANSWER_VERB}"
    rf"|([^。、「」\n]{{2,40}}?)(?:と|ことを|旨を)(?:{_COUNT}(?:も|ほど)?)?{_ANSWER_VERB}(?:し|いたし|しま|を)"
)


def _channel(text: str) -> str | None:
    """The first channel named; a place of the office (庁舎・フロア) yields to the medium (電話)."""
    weak = ("庁舎", "フロア", "庁内", "目の前")
    matches = [m for m in find_channels(text) if m.counts]
    strong = [m for m in matches if m.surface not in weak]
    chosen = (strong or matches)[:1]
    return chosen[0].code if chosen else None


_NOT_A_DURATION = re.compile(r"([0-9０-９〇一二三四五六七八九十百.]+\s*(?:時間|分)(?:半)?)(?:前(?!から)|後|ごと|おき|以内に|まで(?:に)?)")


def _elapsed(text: str, asking: str | None) -> int | None:
    minutes = parse_minutes(_NOT_A_DURATION.sub("", text))
    if minutes is None and asking == "elapsed_minutes":
        bare = re.fullmatch(r"\s*([0-9]+)\s*", normalise(text))
        minutes = int(bare.group(1)) if bare else None
    return minutes


def _warnings(norm: str) -> tuple[bool | None, bool | None]:
    if mentions_refusal_to_leave(norm):
        return True, True
    warned = _WARNED.search(norm)
    if not warned:
        return None, None
    return True, (True if _CONTINUED.match(norm[warned.start():]) else None)


# What a citizen reports happened to them (「自転車を壊されたという苦情」) is their complaint, not harm to us.
_REPORTED = re.compile(r"^[^。]{0,12}?(?:という|との|って)(?:苦情|相談|ご相談|問い合わせ|お問い合わせ|申し出|お申し出|訴え|電話|連絡|話)")


def _stated_by_customer(norm: str, pattern: re.Pattern, code: str) -> bool | None:
    """True when the customer did it (a hypothetical, a citizen's own accident or a complaint
    about what happened to them is not), None when the text does not say."""
    for match in pattern.finditer(norm):
        if _negated_here(norm, match.end()) or _REPORTED.match(norm[match.end():]):
            continue
        if not_conduct_reason(norm, match.start(), match.end(), code) is None:
            return True
    return None


def _self_harm(norm: str) -> bool | None:
    for match in _SELF_HARM.finditer(norm):
        if not _negated_here(norm, match.end()) and not_conduct_reason(norm, match.start(), match.end()) is None:
            return True
    return None


_ANSWERS: dict[str, tuple[str, str]] = {
    "our_fault": (_YES + r"|こちらのミス|ミスがあった|不備があった", _NO + r"|ミスはない|不備はない"),
    "demand_related": (_YES + r"|関係(?:が)?ある|関係あり|関係します|関係しています|関連(?:が)?ある", _NO + r"|関係(?:が)?ない|関係なし|無関係|関連(?:が)?ない"),
    "identified": (_YES + r"|わかっている|わかってい|わかってる|分かっている|分かってる|わかる|分かる|判明している", _NO + r"|わかっていない|わかってない|分かっていない|分かってない|わかりません"),
    "recorded": (_YES + r"|とれている|とれてい|とれてる|取れている|取れてる|録音している|録音してい|とってい|取ってい", _NO + r"|とれていない|とれてない|取れていない|取れてない|とっていない|してい?ない"),
    "alone": (_YES + r"|一人|ひとり|1人|自分だけ|私だけ", _NO + r"|複数|二人|ふたり|2人|3人|三人|数人|上司と|同僚と"),
    "ongoing": (_YES + r"|対応中|いま対応中|今対応中|いま|今|現在対応中|まだ続いている|続いてい", _NO + r"|終わった後|終わった|終わりました|もう終わった|対応後|終了"),
    "deadlock": (_YES + r"|繰り返しになっている|繰り返し|くりかえし|堂々巡り|平行線|進んでいない|進まない", _NO + r"|話は進んでいる|進んでいる|進んでい|繰り返しではない"),
    "public": (_YES + r"|人前|人前で|大勢の前|投稿された|書き込まれた|公開された|見られている", _NO + r"|一対一|二人きり|人前ではない|投稿はない|投稿されていない"),
    "money_demanded": (_YES + r"|お金|金銭|金銭の要求|お金の要求|返金|弁償|慰謝料", _NO + r"|お金ではない|金銭ではない|お金の要求はない"),
    "injured": (_YES + r"|けがをした|けがした|ケガした|怪我した|けががある|けが人がいる", _NO + r"|けがはない|けがはなかった|ケガはない|怪我はない|無事"),
    "vulnerable": (_YES + r"|ありそう|心配|ある|その様子がある|支援が必要そう", _NO + r"|しっかりしている|なさそう|特にない|問題ない"),
}

_READERS: dict[str, Callable[[str], bool | None]] = {
    "our_fault": lambda norm: _polarity(norm, _OUR_FAULT, _NO_FAULT),
    "demand_related": lambda norm: _polarity(norm, _RELATED, _UNRELATED),
    "identified": lambda norm: _polarity(norm, _IDENTIFIED, _ANONYMOUS),
    "recorded": lambda norm: None if _THEIR_RECORDING.search(norm) else _polarity(norm, _RECORDED, _NOT_RECORDED),
    "alone": lambda norm: _polarity(norm, _ALONE, _NOT_ALONE),
    # A live marker wins over a past one: 「昨日来た人が今日も来て、いま窓口にいます」.
    "ongoing": lambda norm: True if _polarity(norm, _LIVE) else (False if _PAST.search(norm) else None),
    "deadlock": lambda norm: _polarity(norm, _DEADLOCK, _NO_DEADLOCK),
    "public": lambda norm: _polarity(norm, _PUBLIC, _NOT_PUBLIC),
    "money_demanded": lambda norm: _polarity(norm, _MONEY_DEMANDED, _NO_MONEY),
    "injured": lambda norm: False if _NOT_INJURED.search(norm) else _stated_by_customer(norm, _INJURED, "physical_attack"),
    "property_damaged": lambda norm: (
        False if _NOT_DAMAGED.search(norm) else _stated_by_customer(norm, _PROPERTY_DAMAGED, "physical_attack")
    ),
    "vulnerable": lambda norm: _polarity(norm, _VULNERABLE, _NOT_VULNERABLE),
}


def read_facts(text: str, asking: str | None = None) -> dict[str, Any]:
    """Every fact the text states (keys of FACT_KEYS); a fact it does not state is absent.

    ``asking`` is the fact the bot has just asked about, so that a bare 「あった」「一人です」
    answers it.
    """
    norm = normalise(text or "")
    facts: dict[str, Any] = {}
    for key, reader in _READERS.items():
        value = _answer(norm, *_ANSWERS[key]) if asking == key and key in _ANSWERS else None
        if value is None:
            value = reader(norm)
        if value is not None:
            facts[key] = value
    channel = _channel(text or "")
    if channel is not None:
        facts["situation_channel"] = SituationChannel(channel).value
    minutes = _elapsed(text or "", asking)
    if minutes is not None:
        facts["elapsed_minutes"] = minutes
    if _self_harm(norm):
        facts["self_harm"] = True
    warned, continued = _warnings(norm)
    if warned:
        facts["warned"] = True
    if continued:
        facts["continued_after_warning"] = True
    if asking == "demand" and "money_demanded" not in facts and _MONEY_WORD.match(re.sub(r"[\s。、!！]+", "", norm)):
        facts["money_demanded"] = True  # the demand typed as one word: 「返金」「慰謝料」
    return facts


def record_notes(text: str) -> dict[str, Any]:
    """What the record keeps and the judgement does not use, as the message states it:
    ``staff_present`` (roles), ``apologised_for`` and ``answers_given`` (the employee's words),
    ``answer_count`` (how often the answer was given) and ``police_called`` (「110番しました」).
    A note not stated is absent."""
    norm = normalise(text or "")
    notes: dict[str, Any] = {}
    staff = [role for match in _STAFF.finditer(norm) for role in match.groups() if role]
    if staff:
        notes["staff_present"] = list(dict.fromkeys(staff))
    apologies = [match.group(1).strip() for match in _APOLOGISED.finditer(norm)]
    if apologies:
        notes["apologised_for"] = list(dict.fromkeys(apologies))
    counts = [count_of(next(group for group in match.groups() if group)) for match in _ANSWER_COUNT.finditer(norm)]
    counts = [count for count in counts if count]
    if counts:
        notes["answer_count"] = max(counts)
    answers = [
        (match.group(1) or match.group(2)).strip() for match in _ANSWER_GIVEN.finditer(norm)
        if not _ANSWER_COUNT.fullmatch((match.group(1) or match.group(2)).strip())
    ]
    answers = [answer for answer in answers
               if not re.fullmatch(rf"[^ぁ-んァ-ン一-龥]*|(?:何度|何回)も?|同じ|{_ROLE}", answer)]  # 「係長と説明」
    if answers:
        notes["answers_given"] = list(dict.fromkeys(answers))
    if _polarity(norm, _POLICE_CALLED):
        notes["police_called"] = True
    return notes


# --- danger cues -------------------------------------------------------------------------
_WEAPON_WORD = r"(?:刃物|ナイフ|ないふ|包丁|カッター|ハサミ|はさみ|鋏|凶器|拳銃|銃|ピストル|バット|木刀|鉄パイプ|スタンガン|鈍器|斧|鎌|のこぎり|火炎瓶|ナタ|鉈|刀|ゴルフクラブ|ハンマー|金槌|かなづち|スパナ|レンチ)"
_STAFF_VICTIM = r"(?:職員|店員|同僚|スタッフ|係員|係長|課長|上司|警備員|私|わたし|先輩|後輩|看護師|駅員|乗務員|担当者?)"
_DANGER_PATTERNS: dict[DangerCue, re.Pattern] = {
    DangerCue.WEAPON: re.compile(
        rf"{_WEAPON_WORD}(?:の(?:ようなもの|ような物)|みたいな(?:の|もの|物)|っぽい(?:の|もの|物))?(?:を|が|で|のような物を)?[^。、]{{0,8}}?(?:持っ|持ち|もっ|もち|出し|出して|出され|見せ|みせ|向け|振り回|切り?(?:つけ|付け|かか)|振り上げ|突きつけ|突き付け|ちらつか|握|取り出|構え|かざ|置い|置き|置かれ|叩き|殴|割っ|壊し)"
        rf"|{_WEAPON_WORD}を持った"
        r"|[^。、]{1,8}?を振り(?:回し|回す|上げ)"  # 「点滴スタンドを振り回してる」: anything swung is a weapon
    ),
    DangerCue.VIOLENCE: re.compile(
        # an attempt is danger too, so it is matched whole (「しめられ」 alone would read as not done)
        r"首を(?:絞め|しめ)られ(?:かけ|そうに)|"
        r"(?:殴ら|なぐら|(?<![机台板壁]を)叩か|(?<![机台板壁]を)たたか|蹴ら|(?<=[をにでも、])けら|突き飛ばさ|押し倒さ|首を(?:絞め|しめ)ら|胸ぐらを(?:つかま|掴ま)|胸倉を(?:つかま|掴ま)|襲わ|噛ま|髪を(?:引っ張|つかま|掴ま)|殴りかから|つかみかから|掴みかから|羽交い締めにさ"
        r"|(?:腕|手|肩|服|襟|手首)を?(?:つかま|掴ま|引っ張ら)|(?:無理やり|むりやり)?抱き(?:つか|付か|着か|しめら)|押し(?:つけ|付け)ら)れ"
        r"|(?:殴り|なぐり|つかみ|掴み|襲い|飛び)かか(?:って|ろうと|られ)|(?:殴|蹴)って(?:き|くる)|暴れ(?:て|だ|出|始め|ている)|暴力を(?:振る|ふる)(?:われ|って|い)"
        r"|手を(?:出して|上げて|あげて)(?:き|くる)|(?:物|もの|椅子|いす|灰皿|コップ)を?(?:投げ|なげ|ぶつけ)(?:て|つけ|られ)|(?:投げ|なげ)つけ(?:て|られ)|(?:噛み|かみ)(?:つか|付か)れ"
        r"|(?:ねじり?|ねじ|ひねり?|捻り?)(?:あげ|上げ)られ|平手打ち(?:を)?され|ビンタ(?:を)?され|切り?(?:つけ|付け)られ|刺され"
        r"|髪を(?:引っ張ら|ひっぱら)れ|暴行(?:を)?(?:受け|され)|殴る蹴る"
        r"|(?:お茶|コーヒー|水|熱湯|お湯|飲み物|液体|ジュース)を[^。、]{0,4}?(?:かけ|掛け|浴びせ)られ"
        r"|を投げ(?:て(?:き|くる)|つけ(?:て|られ)|られ)"
        # an attack on a member of staff told in the active voice (「ほかの店員を蹴りました」); 「机を蹴った」 is intimidation
        rf"|{_STAFF_VICTIM}(?:を|に)(?:思い切り|いきなり|急に)?(?:殴|なぐ|蹴|け|叩|たた|突き飛ば|押し倒|つかみかか|掴みかか|殴りかか|切りつけ|刺)"
    ),
    DangerCue.FIRE: re.compile(
        r"火を?(?:つけ|付け|放)|放火|燃やす|燃やして|燃やしてや|ガソリン|火炎瓶|灯油を?(?:まく|撒|かぶ|かけ|持)|爆破|爆弾(?!おにぎり|低気圧|発言|セール|ハンバーグ|処理)|爆発させ|ライターを?(?:出|つけ|持|取り出)"
    ),
    DangerCue.THREAT_TO_HARM: re.compile(
        r"(?:ぶっ)?(?:殺|ころ)(?:す(?!気)|してやる|したる|したろ|すぞ|すからな)|ぶっ殺|ぶっころ|皆殺し|みなごろし"
        r"|(?<!釘を)(?<!くぎを)刺(?:す(?:ぞ|からな|ぜ|[」』]|と言|って言)|してやる|したる|して(?:俺|おれ|わし|自分)も)"
        r"|(?:お前|おまえ|あんた|てめえ|てめー|貴様)(?:を|も)(?:刺|殺|殴|ぶっ)"
        r"|(?:ぶん)?殴(?:る(?:ぞ|からな)|ってやる|ったろ)|ぶっ飛ばす|ぶっとばす|ボコボコにする|しばいたろ|命は(?:ない|ねえ)|生きて帰れると|痛い目に?(?:あわせ|合わせ|見せ|遭わせ)"
        r"|危害を(?:加え|与え)|夜道に気を(?:つけ|付け)|血を見|(?:家族|子供|子ども)がどうなっても"
        r"|(?:車で)?突っ込(?:んでやる|むぞ|んだる)|(?:轢|ひ)いてやる|(?:轢|ひ)き殺|殺しに(?:行く|いく|来る|くる|行っ)"
    ),
    DangerCue.LOCKED_IN: re.compile(
        r"閉じ込め(?:られ|て)|とじこめられ|監禁|軟禁|鍵を[^。、]{0,6}?(?:かけ|掛け|閉め)られ|(?:まで|から)は?(?:出さ|帰さ)(?:ない|ねえ|ねー|へん|ん)|出口を(?:塞|ふさ)(?:が|い)|(?:ドア|扉|出口|入口|戸口)の前に立ち(?:はだか|ふさが|塞が)|押し込(?:まれ|められ)|外から(?:押さえ|鍵)"
        r"|(?:出入り?口|出口|入口|ドア|扉)を[^。]{0,6}?(?:ふさ|塞)(?:い|が)|出られない(?:ように|よう)"
        r"|(?:帰さ|帰して(?:くれ|もらえ)|帰らせて(?:くれ|もらえ)|出して(?:くれ|もらえ))(?:ない|ず|ません)"
        r"|(?:部屋|室|車|ここ|店|建物|庁舎|事務所|家|トイレ|倉庫)から出(?:して(?:もらえ|くれ)|られ)(?:ない|ず|ません)|(?:シャッター|ドア|扉)を?[^。、]{0,4}?(?:降ろ|下ろ|おろ|閉め|しめ)(?:され|られ)|外に出(?:して(?:もらえ|くれ)|られ)(?:ない|ず|ません)"
    ),
}
# Violence, a weapon or being locked in that is over (昨日・帰った) is no danger *now*; a threat
# or fire still is (the guidance sends both to the police).
_PRESENT_ONLY = frozenset({DangerCue.WEAPON, DangerCue.VIOLENCE, DangerCue.LOCKED_IN})
_CODE_OF_CUE = {DangerCue.THREAT_TO_HARM: "threat", DangerCue.FIRE: "threat", DangerCue.WEAPON: "threat"}


def danger_cues(text: str, *, also_over: bool = False) -> frozenset[DangerCue]:
    """Explicit danger to staff the message states (empty when there is none); with ``also_over``
    also violence, a weapon or being locked in that is over."""
    norm = normalise(text or "")
    over = not also_over and _READERS["ongoing"](norm) is False
    cues: set[DangerCue] = set()
    for cue, pattern in _DANGER_PATTERNS.items():
        if over and cue in _PRESENT_ONLY:
            continue
        for match in pattern.finditer(norm):
            if _negated_here(norm, match.end()):
                continue
            code = _CODE_OF_CUE.get(cue, "physical_attack")
            if not_conduct_reason(norm, match.start(), match.end(), code) is None:
                cues.add(cue)
                break
    return frozenset(cues)
