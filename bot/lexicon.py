"""Surface keywords → behaviour and channel codes (pure Python, no Rasa import).

The NLU's DIET model finds behaviour/channel mentions; this module turns whatever it
found into the stable codes of :mod:`bot.codes` and also detects keywords on its own.

Matching works on an NFKC-normalised, lower-cased copy of the text (full-width digits
and Latin letters become ASCII, half-width katakana becomes full-width, 「ﾄﾞ」 becomes
「ド」); match offsets are mapped back to the original text
(see :func:`_normalise_with_offsets`).

Design choices (tested in tests/test_lexicon.py):
- Patterns are regular expressions per code; a longer match of one code that overlaps a
  shorter match of another code wins (「机を叩かれた」 is intimidation, not an assault).
- A match directly followed by a negation (「殴られてはいない」「暴言はありません」) is
  reported with ``negated=True`` and ignored by :func:`behaviors_in`.
- Anger alone (怒っている・激怒・大声で怒って) maps to nothing: a loud but reasonable
  complainant is not harassment; aggressive loudness (大声を出される・叫ぶ・怒鳴る) is
  intimidation.
- Something that has not happened is not a behaviour (「殴られそう」「抱きつかれそうになった」).
- Repetition is ``persistent`` only when repeating is the conduct itself (calls, visits,
  mails, the same demand); a frequency word on another behaviour (「何度も食事に誘われる」
  「下ネタを延々と」) is that behaviour only.
- Threatening to expose someone online (「ネットに晒すぞ」) is ``sns_exposure``; ``threat``
  is reserved for harm to life, body, home and property (殺すぞ・家に行くぞ・刃物・押しかける).
- 「電話番号」「携帯番号」「メールアドレス」 are not a channel (they are usually what a customer
  demands to know about an employee); 「SNSに晒す」 is exposure, not the channel.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from bot.codes import Behavior, SituationChannel

# --------------------------------------------------------------------------------------
# Behaviour patterns. Plain strings are keywords; a few use regex for context.
# Text is normalised first (NFKC + lower case): write ASCII in lower case here.
# --------------------------------------------------------------------------------------
B = Behavior

_REPEAT_ADVERB = (
    r"何度も|何回も|なんども|なんかいも|何度となく|毎日(?:のように)?|連日|毎週|毎朝|毎晩|毎回|繰り?返し|くりかえし|しつこく|執拗に|再三|"
    r"何十回も?|何百回も?|数十回|立て続けに|ひっきりなしに|何度(?:断って|断っても|お断りして)も?|"
    r"(?:一日に?|1日に?|日に)(?:\d+|何|数|十|二|三|四|五)+(?:回|件|通|本)(?:以上|も|近く)?|"
    r"(?:一晩|ひと晩|一晩中|半日|一週間|1週間|今週|今月)(?:で|に|だけで)?(?:\d+|何|数|十)+(?:回|件|通|本)(?:以上|も|近く)?|\d+(?:回|件|通|本)以上"
)
_REPEAT_OBJECT = (
    r"電話|でんわ|メール|連絡|来庁|来所|来店|来社|来館|来て|来る|来ま|来られ|やって来|かけて|かかって|掛けて|問い合わせ|問合せ|"
    r"クレーム|苦情|同じ|投書|手紙|ファックス|fax|押しかけ|通って|要求|催促|着信|架電|入電|訪ねて|窓口に|繰り?返|"
    r"届(?:く|き|いて|いた)|送(?:られて|って|りつけ|り付け)"
)


BEHAVIOR_PATTERNS: dict[Behavior, tuple[str, ...]] = {
    B.PHYSICAL_ATTACK: (
        r"どつ(?:か|い|き)", r"はた(?:か|い)(?:れ|て)", r"ぶた(?:れ)", r"殴打", r"張り手", r"頭突き", r"体当たり", r"肘打ち", r"足を踏(?:ま|ん)", r"踏みつけ",
        r"小突", r"こづ(?:か|い)", r"羽交い締め", r"髪を(?:引っ張|つか|掴)", r"傷害", r"(?:けが|怪我|ケガ)を(?:負|し)", r"流血", r"噛まれ", r"引っかか(?:れ)", r"ひっかかれ",
        r"(?:灰皿|椅子|いす|イス|コップ|湯呑み?|ペン|ボールペン|書類|パンフレット|(?<!刃)物|もの|商品|小銭|お金|携帯|スマホ|カバン|鞄|傘|杖)(?:を|で)?(?:投げ|ぶつけ|振り回|放り)",
        r"(?:ペン|傘|杖|棒|バッグ|鞄|カバン)で(?:叩|殴|突)", r"ぶつか(?:って|られ)き", r"手を払いのけ", r"叩かれ", r"たたかれ", r"掴みかか", r"つかみかか",
        r"殴(?:ら|り(?!書)|る(?!ふり|振り|真似|まね)|っ|ろ|れ)", r"なぐ(?:ら|り|る|っ)", r"ぶん殴", r"ぶんなぐ",
        r"(?<!机を)(?<!机)叩(?:か|いてき)", r"ひっぱた", r"引っぱた", r"平手", r"ビンタ", r"びんた",
        r"蹴(?:ら|られ|って?き|りつけ|飛ば)", r"(?:足|すね|体)を?蹴",
        r"突き飛ば", r"つき飛ば", r"押し倒", r"押さ?れ(?:た|て|ま)", r"押してき", r"突き倒",
        r"胸ぐら", r"胸倉", r"掴(?:ま|みかか|んでき|みかかっ)", r"つかみかか", r"つかまれ",
        r"首を絞", r"首をしめ", r"噛みつ", r"かみつ", r"引っ掻", r"ひっか(?:か|い)",
        r"(?<!丸)(?<!身)投げ(?:つけ|られ|てき|た|る|て|ようと|返)", r"ぶつけ(?:られ|てき|た)", r"放り投げ",
        r"唾", r"つば(?:を|吐|かけ|が|を吐)", r"ツバ", r"吐きかけ", r"吐き掛け",
        r"襲(?:わ|い|っ)", r"暴行", r"暴力(?!団|的な言)", r"手を(?:出|あげ|上げ|挙げ)", r"手が出",
        r"(?:水|お茶|コーヒー|飲み物)を(?:かけ|掛け|ぶっかけ)", r"ぶっかけ",
        r"怪我(?:を)?(?:させ|し)", r"けがをさせ", r"ケガ(?:を)?(?:させ|し)",
        r"腕を(?:掴|つか|引っ張|ひっぱ)", r"引っ張(?:ら|られ)",
    ),
    B.THREAT: (
        r"(?:叩く|たたく|蹴る|蹴飛ばす|突き飛ばす|殴る)(?:ぞ|からな|ど)", r"(?:叩い|蹴っ|蹴飛ばし)てやる",
        r"しば(?:く|いたろ|いたる|いてやる|かれたい)", r"いてまう", r"いてこま", r"命は(?:ない|ねえ)", r"生きて帰れる", r"消してやる", r"(?:家族|子供|子ども|娘|息子|嫁|奥さん)(?:に|を|が)(?:何か|なにか|手を出|どうな|危険)",
        r"闇討ち", r"(?:後ろ|背中|車|夜道|帰り道)に(?:気をつけ|気を付け)", r"ぶっ飛ばす", r"ぶっとばす", r"ぶっ飛ばし(?:てやる|たろ)", r"ボコ(?:ボコ|る|ってやる)", r"血を見", r"殺害", r"殺人予告", r"犯行予告", r"爆破予告",
        r"拳銃", r"(?<![a-z])銃(?:を|で)", r"灯油を(?:まく|撒)", r"ガソリン", r"(?:危害|痛い目|ひどい目)を?(?:加え|与え|見せ|あわせ|合わせ)", r"報復", r"仕返し", r"落とし前",
        r"(?:ぶん)?殴(?:る|ってやる|ったろ|りに行く|りにいく)(?:ぞ|からな|ど)", r"殴られたいのか", r"ぶん殴(?:る|ってやる)",
        r"殺(?:す|し|さ|せ|そ)", r"ころす", r"ころし", r"コロス", r"ぶっ殺", r"ぶっころ",
        r"刺(?:す|し|さ|され)", r"刃物", r"刃物を振り回", r"(?:ハサミ|はさみ|鋏|鈍器|バット|木刀|鉄パイプ|スタンガン|棒|傘|杖|椅子|いす|イス)を?(?:振り回|振り上げ|突きつけ|向け)", r"鈍器", r"スタンガン", r"(?:ハサミ|はさみ|鋏)を(?:出|持)",
        r"(?:(?:お前|おまえ|あんた|てめえ|貴様)の)?(?:家|自宅|住所|顔|名前|車|家族|子ども|子供|娘|息子)(?:は|を|も|なら)?(?:知って(?:る|いる)|覚えた|覚えてる|わかって(?:る|いる)|分かって(?:る|いる))(?:から|ぞ|んだ|ん だ|からな|よ)",r"ナイフ", r"包丁", r"カッター", r"凶器", r"ハサミを(?:向け|出|持)",
        r"火をつけ", r"火を付け", r"放火", r"燃やす", r"燃やし", r"爆破", r"爆弾", r"灯油",
        r"(?:(?:お前|おまえ|あんた|てめえ|貴様|お宅)の)?(?:家|自宅|うち|住所)(?:に|まで|へ)(?:行|い|押しかけ|乗り込)(?:く|っ|き|こ)", r"押しかけ(?:る|て(?:やる|くる)|た|てき)", r"乗り込(?:む|んでやる)(?:ぞ|からな)",
        r"夜道", r"覚えと(?:け|けよ)", r"覚えてろ", r"覚えておけ", r"ただじゃ(?:おかない|済まない|すまない|おかねえ)",
        r"ただで(?:済む|すむ|は済まない|はすまない)", r"痛い目", r"どうなっても(?:知らない|しらない|いい)",
        r"後悔させ", r"後悔するぞ", r"脅(?:迫|さ|し|す)", r"おど(?:され|さ|し|す)", r"危害",
        r"暴力団", r"ヤクザ", r"やくざ", r"反社", r"組の(?:者|もん)",
        
        r"(?:埋め|沈め)(?:る|てやる)ぞ?",
        r"命(?:は|が)(?:ない|惜し)", r"タダじゃ", r"待ち伏せしてやる", r"帰り道に気をつけ",
    ),
    B.VERBAL_ABUSE: (
        r"悪態", r"口汚", r"汚い言葉", r"侮蔑", r"嘲(?:笑|っ|ら)", r"あざ(?:笑|わら)", r"間抜け", r"マヌケ", r"まぬけ", r"出来損ない", r"できそこない", r"使えねえ", r"使えねー",
        r"底辺", r"社会のゴミ", r"寄生虫", r"ばか者", r"バカ者", r"馬鹿者", r"バカヤロ", r"ばかやろ", r"馬鹿野郎", r"たわけ", r"ブサイク", r"不細工", r"きもい", r"キモい", r"気持ち悪い(?:顔|やつ|奴|女|男)",
        r"恥を知れ", r"人でなし", r"最低な人間", r"能なし", r"ふざけた(?:職員|野郎|奴|女)", r"ろくでなし", r"給料(?:ドロボー|どろぼう)", r"税金(?:ドロボー|どろぼう)", r"脳なし", r"アホ(?:か|が)", r"うすのろ", r"のろま",
        r"暴言", r"罵倒", r"罵(?:ら|り|っ|声)", r"ののし", r"罵詈雑言", r"侮辱", r"人格否定", r"人格を否定",
        r"馬鹿", r"バカ", r"ばか(?!り|に高|な値|でかい)", r"アホ", r"あほ(?!う)", r"クズ", r"くず(?!れ|す|し)",
        r"ボケ", r"ぼけ(?:が|ナス|なす)", r"カス(?!ハラ|タマ|テラ)", r"無能", r"役立たず", r"役たたず", r"能無し", r"のうなし",
        r"給料泥棒", r"税金泥棒", r"税金ドロボー", r"死ね", r"しね(?:よ|!|！|、|。|っ|$)", r"消えろ", r"失せろ", r"うせろ",
        r"低能", r"低脳", r"頭(?:が)?悪い", r"頭(?:が)?おかしい", r"脳みそ", r"ポンコツ", r"ぽんこつ", r"使えない(?:奴|やつ|職員|女|男|人間)",
        r"ゴミ(?:職員|野郎|以下|みたい|が|め)", r"ごみ(?:職員|野郎|以下)", r"存在価値", r"お前(?:みたいな|なんか|ごとき)(?:の|奴|やつ|人間|職員|公務員|が|に)", r"公務員の?くせ", r"税金で食って", r"役所の人間は(?:これだから|みんな)", r"生きてる価値", r"生きている価値", r"ブス", r"ハゲ", r"はげ(?:が|!)", r"デブ", r"ババア", r"ばばあ", r"ジジイ",
        r"クソ", r"くそ(?:が|野郎|役人|職員)", r"ふざけた顔", r"人間(?:として)?(?:失格|のクズ)", r"悪口", r"罵声",
        r"ばかにされ", r"馬鹿にされ", r"バカにされ", r"見下", r"舐めてんのか", r"なめてんのか",
        r"役人(?:ども|風情|のくせ)", r"小役人", r"お前呼ばわり", r"貴様", r"てめえ", r"てめー", r"テメエ", r"無礼者",
    ),
    B.INTIMIDATION: (
        r"怒声", r"大声(?:を)?(?:出さ|出し|出す|出して|あげ|上げ)", r"大声で(?=(?:[「『][^」』]{0,40}[」』]と?)?(?:言|罵|文句|まくし|責め|叫|わめ|喚|怒鳴|脅|威嚇))", r"叫(?:ば|ん|び|ぶ)", r"さけ(?:ば|ん|び|ぶ)", r"(?:カウンター|窓口|受付)の(?:中|内側|奥)に(?:入|侵入|押し入)", r"拳を(?:振り上げ|振り下ろ|握りしめ)", r"(?:机|テーブル|カウンター)に(?:拳|手|物|書類|鞄|カバン)を?(?:叩きつけ|振り下ろ|打ちつけ)", r"叩きつけ", r"ドアを(?:強く)?蹴", r"壁を(?:殴|蹴|叩)",
        r"メンチ", r"高圧的", r"威圧感", r"すごい剣幕で(?:迫|詰め|にじ)", r"詰問", r"ヤクザ(?:みたい|のよう)な(?:口調|態度|言い方)", r"脅すような(?:口調|態度|言い方|目)",
        r"怒鳴", r"どな(?:ら|り|る|っ|られ)", r"怒号", r"恫喝", r"どうかつ", r"威圧", r"威嚇",
        r"(?:机|つくえ|テーブル|カウンター|窓口|壁|ドア|台)(?:を|に|の上を)?(?:(?:バンバン|ばんばん|ドンドン|どんどん|バン|ドン|どん|強く|激しく|思い切り|思いっきり|拳で|手で|何度も)と?)?(?:叩|たた|殴|蹴|どん|バン|ばん)",
        r"机バン", r"台パン", r"机ドン", r"壁ドン",
        r"詰め寄", r"つめよ", r"にじり寄", r"睨(?:ま|み|ん|まれ)", r"にらみ", r"にらま", r"にらん", r"凄(?:ま|み|ん)", r"すごま", r"すごん",
        r"舌打ち", r"ガン(?:を)?(?:つけ|飛ばし)", r"巻き舌", r"(?:椅子|いす|イス|ゴミ箱|物|ドア)(?:を)?(?:蹴|けっ|蹴飛ば|蹴り飛ば)",
        r"(?:ドア|扉)を(?:強く|乱暴に)?(?:バタン|閉め)", r"胸を張って迫", r"顔を近づけ", r"顔を寄せて", r"至近距離",
        r"おい(?:こら|コラ)", r"なめんな", r"ナメんな", r"なめるな", r"こら[ぁあー]*[!！]", r"コラ[ァアー]*[!！]",
        r"大声で(?:怒鳴|わめ|喚|叫)", r"わめき散ら", r"喚き散ら", r"叫び(?:続け|散ら)", r"怒り散ら", r"物に当た",
    ),
    B.DOGEZA_DEMAND: (
        r"(?:ひれ伏|額をこすりつけ|額を擦りつけ|正座)(?:し)?て(?:謝|詫|あやま)(?:れ|ろ)?", r"ひれ伏", r"額を(?:こすりつけ|擦りつけ|床)", r"床に(?:座って|正座して)(?:謝|詫)", r"正座して(?:謝|詫)",
        r"(?:土下座|どげざ|ドゲザ)(?:して|で)?(?:謝|あやま|詫|わび)(?:れ|ろ|らせ|罪しろ)?", r"(?:土下座|どげざ)(?:して|で)誠意(?:を)?(?:見せ|みせ)(?:ろ)?", r"土下座", r"どげざ", r"ドゲザ",
        r"床に(?:手|頭|額)を(?:つ|付)(?:けて|いて)?(?:謝れ|詫びろ|あやまれ)?", r"地面に(?:頭|額|手)を(?:つ|付|こすりつけ)(?:けて|いて)?(?:謝れ|詫びろ|あやまれ)?", r"額を(?:床|地面)",
        r"膝をついて謝", r"ひざまず",
    ),
    # Repetition counts only when it is the conduct itself (calls, visits, mails, the same
    # demand): 「何度も電話してくる」「同じ話の繰り返し」. A frequency word on another behaviour
    # (「何度も食事に誘われる」「下ネタを延々と」「毎日書き込まれる」) is that behaviour only.
    B.PERSISTENT: tuple(
        [
            rf"(?:{_REPEAT_ADVERB})(?=[^。、！!？?]{{0,8}}?(?:{_REPEAT_OBJECT}))",
            rf"(?:{_REPEAT_OBJECT})(?:が|を|は|も|の|、)?(?:とにかく|本当に|ほんとに|すごく|もう)?(?:{_REPEAT_ADVERB}|しつこい|しつこく|何十通|何百通|何通も|何件も|何本も|\d+(?:回|件|通|本)(?:以上|も|近く))",
            r"(?:\d+|[一二三四五六七八九十]+)回目の(?:電話|来庁|来所|来店|来訪|メール|問い合わせ|クレーム|苦情|訪問)",
            r"同じ(?:話|こと|事|内容|要求|質問|主張|説明|クレーム|苦情|電話|文句|件|用件|メール|手紙)", r"おなじ(?:話|こと)",
            r"堂々巡り", r"どうどうめぐり", r"ループ", r"蒸し返", r"鬼電", r"鳴り(?:止ま|やま)ない", r"電話攻撃", r"メール攻撃", r"電凸",
            r"大量の(?:メール|電話|手紙|投書|問い合わせ|ファックス|fax|着信)", r"(?:メール|電話|手紙|投書|ファックス|fax)が?(?:大量|山ほど|何十|何百)",
            r"かけ直してくる", r"かけなおしてくる", r"またかけてくる", r"またかかってき", r"懲りずに", r"日参", r"通い詰め", r"くどくど", r"粘着", r"執念深",
            r"(?:\d|[一二三四五六七])日連続", r"何(?:週間|ヶ月|か月|カ月)も(?:続|毎|同じ)", r"朝から晩まで(?:電話|メール)", r"ひっきりなし", r"(?:」|ろ|せ|え|れ|よこせ)の繰り?返し",
            r"何十回", r"何百回", r"数十回", r"数百回", r"何十件", r"何百件", r"何十通", r"何百通",
        ]
    ),
    B.DETENTION: (
        r"缶詰", r"(?:帰し|帰らせ|出し|行かせ|切らせ|解放し)て(?:くれ|もらえ)(?:ない|なかった|ず|ません|ませんでした)", r"(?:帰れ|出られ|帰ら|動か|立ち去ら)なかった", r"居座った",
        r"(?:まで|と|ないと)(?:電話を)?切らない", r"(?:前|場|席|窓口|受付|カウンター|ロビー)から動(?:かない|こうとしない|かず|かなかった)", r"足止め", r"引き(?:留|止)め(?:られ|て)", r"帰らせて(?:もらえ|くれ)(?:ない|ず|ません)", r"帰らせない", r"席を立たない", r"席を立とうとしない", r"出口を(?:塞|ふさ)", r"立ちはだか",
        r"(?:電話|でんわ)を切(?:ると|ったら)(?:怒|キレ|また)", r"切らないで(?:聞け|最後まで)", r"話が終わるまで(?:帰さ|帰れ|切ら)", r"終わらせてくれない", r"解放して(?:くれ|もらえ)(?:ない|ず)",
        r"居座", r"いすわ", r"居すわ", r"居残", r"座り込", r"すわりこ", r"不退去", r"退去(?:しない|せず|を拒|してくれない|に応じない)",
        r"(?:退去|退出|退庁)(?:命令|要請|要求|のお願い)?に(?:従わ|応じ)(?:ない|ず|ません)", r"帰らない", r"帰らず", r"帰ろうとしない", r"帰ろうとせず", r"帰ってくれない", r"帰ってもらえない", r"帰らなくて",
        r"帰し(?:て(?:くれ|もらえ)ない|てくれず|てもらえず)", r"帰してくれません", r"帰してもらえません", r"帰さない", r"帰さず",
        r"帰れない", r"帰れません", r"出て(?:いか|行か|いって(?:くれ|もらえ)|行って(?:くれ|もらえ))(?:ない|ず|ません)", r"立ち去らない", r"立ち去ろうとしない",
        r"拘束", r"監禁", r"軟禁", r"閉じ込め", r"とじこめ", r"出られない", r"出してもらえない", r"出してくれない",
        r"行かせてくれない", r"行かせない", r"通してくれない", r"出口(?:を|に)(?:塞|ふさ|立ち)",
        r"切らせ(?:て(?:くれ|もらえ)(?:ない|ません|ず)|ない|ません)", r"切るな", r"切ったら(?:許さ|承知し|ただじゃ)", r"切らないで(?:くれない|離さ)",
        r"長時間", r"閉庁(?:時間)?(?:後|を過ぎても|しても|時間を過ぎ)", r"閉館(?:後|時間を過ぎ|しても)", r"閉店(?:後|時間を過ぎ|しても)", r"営業時間(?:外|を過ぎ)",
        r"動こうとしない", r"(?:座り込んで|じっと|その場から|椅子から|窓口から|席から|ロビーから)動(?:かない|かず)", r"ずっと居(?:る|座|続け)", r"居続け", r"ずっといる", r"ずっといて", 
        r"解放してくれない", r"解放されない", r"帰宅させてくれない", r"(?:自宅|家)に(?:呼びつけ|呼び出さ)", r"呼びつけ",
    ),
    B.DISCRIMINATION: (
        r"差別用語", r"障害者(?:に|は|が|なんか|ごとき|のくせ|の分際|じゃ)", r"出身(?:地)?(?:は|だ|を|で|が)?(?:どこ|馬鹿|バカ|からか|笑)", r"訛(?:り|って|ってる)", r"この国の人間", r"日本人じゃない",
        r"(?:歳|年)(?:と|取)った(?:職員|人|奴|やつ|の)", r"年寄り(?:は|に|だから|のくせ|じゃ|なんか)", r"若い(?:の|奴|やつ|職員|人|男|女|もん)に(?:代われ|かわれ|替われ)", r"若いの(?:を出せ|に代われ)", r"(?:外国|外人|中国|韓国|朝鮮)(?:人)?はこれだから", r"日本人に(?:代われ|かわれ|替われ)", r"女性蔑視", r"女(?:の|性の)?(?:担当|職員)(?:は|じゃ)(?:嫌|いや|だめ|ダメ|話にならない)", r"男(?:の人|性)?(?:に|と)しか話さない",
        r"宗教(?:を|の)(?:馬鹿|バカ|侮辱|こと)", r"肌の色", r"障害(?:者|の)?(?:を)?(?:馬鹿|バカ|侮辱|見下)", r"障害(?:のこと|者であること)?を(?:持ち出|馬鹿|バカ|笑|からか)", r"病気持ち", r"方言(?:を)?(?:馬鹿|バカ|笑)", r"(?:外国人|外人)(?:の|に)(?:職員|担当|対応)", r"ハーフ(?:のくせ|だから|は)",
        r"(?:女|女性|おばさん|オバサン)(?:なんか|じゃ)(?:に|では)?(?:用はない|話にならない|わからない|分からない)", r"女は(?:引っ込ん|すっこ|黙)",
        r"差別", r"外人", r"在日", r"(?:外国人|外国籍|よそ者)(?:の(?:職員|担当|奴|やつ|人))?(?:は|が|なんか|ごとき|のくせ|だから|に|じゃ)(?:は)?(?:帰|出て|来る|くるな|いらない|信用|対応させ|担当させ|分から|わから|日本|話にならない|無理|だめ|ダメ|用はない)", r"国籍(?:のこと)?(?:を|で)(?:持ち出|言わ|聞いてき|馬鹿|バカ|理由|差別|からか)", r"人種", r"肌の色", r"出身地", r"部落", r"(?:国|くに)に帰れ",
        r"女(?:性)?の?くせ", r"女(?:性)?だから", r"女なんか", r"女ごとき", r"女じゃ(?:話|わから|分から|だめ|ダメ)", r"女には(?:わからない|分からない|わかんない|わかんねえ|無理)",
        r"女は(?:黙|引っ込|すっこ)", r"男(?:性)?(?:の職員|の人|職員)?を出せ", r"男(?:性)?(?:の職員|の人|職員)?に代われ", r"男(?:性)?(?:の職員|の人|職員)?にかわれ",
        r"男のくせ", r"若造", r"小娘", r"若い(?:女|の)?(?:くせ|には分から|じゃ話)", r"年寄り(?:は|だから|のくせ)", r"老害",
        r"障害(?:者|者の)?(?:のくせ|だから|は引っ込|なんか)", r"障がい者(?:のくせ|なんか)", r"(?:中国|韓国|朝鮮|フィリピン|ベトナム|ブラジル|外国)人(?:は|だから|のくせ|なんか|ごとき)",
        r"日本人(?:じゃない|を出せ|に代われ|じゃなきゃ)", r"日本語も(?:ろくに|まともに)", r"訛り", r"なまり(?:が|を)", r"(?:ゲイ|ホモ|オカマ|おかま|レズ)",
        r"学歴", r"高卒", r"非正規(?:のくせ|なんか|ごとき)", r"パート(?:のくせ|なんか|ごとき)", r"バイト(?:のくせ|なんか|ごとき)",
    ),
    B.SEXUAL: (
        r"猥談", r"(?:スカート|服装|下着|化粧|メイク|体型|胸|お尻|唇|身体つき|体つき|スタイル)(?:の(?:丈|色|形|サイズ))?(?:が|を|について|のこと)?(?:どう|いい|エロ|色っぽ|言われ|言って|聞|じろじろ|褒め|ほめ|指摘)", r"(?:体|身体|からだ)を(?:寄せ|密着|近づけ|押し付け|すり寄せ)", r"すり寄", r"胸元", r"(?:脚|足|太もも|胸|お尻|体|身体)(?:を|ばかり|ばっかり)?(?:じろじろ|ジロジロ|なめるように|舐めるように)", r"交際(?:を)?(?:迫|申し込|しろ)", r"言い寄", r"二人きりで(?:会|食事|飲)", r"一緒に(?:飲み|食事|ホテル)",
        r"密着", r"肩を抱", r"腰に手", r"性的嫌がらせ", r"(?:恋人|彼氏|彼女|旦那|結婚)(?:は)?(?:いる|いない|して(?:る|ない))(?:の|か)", r"(?:かわいい|可愛い|美人|きれい|綺麗)(?:ね|だね|だな|な|から)(?:、)?(?:今度|デート|連絡|付き合)",
        r"セクハラ", r"せくはら", r"性的", r"わいせつ", r"猥褻", r"卑猥", r"ひわい", r"下ネタ", r"しもねた", r"エロ", r"いやらしい",
        r"(?:体|身体|からだ|お尻|尻|おしり|胸(?!ぐら|倉)|太もも|太腿|足|脚|髪|腰)(?:を|に|まで)?(?:触|さわ|なで|撫で)", r"触(?:ら|られ|って?き|ろう|りたがる|れ)", r"さわら", r"さわって",
        r"抱きつ", r"だきつ", r"抱きしめ", r"手を握", r"手をにぎ", r"キス", r"ボディタッチ", r"身体接触",
        r"(?:食事|飲み|ご飯|ごはん|デート|ホテル|遊び|ドライブ)に(?:しつこく|何度も)?(?:誘|さそ)", r"誘わ(?:れ|れる)", r"誘って(?:くる|き)", r"口説",
        r"デート", r"付き合(?:って(?:くれ|よ|ほしい)|え(?!ば))", r"つきあって(?:くれ|よ)", r"交際を", r"彼氏(?:いる|は|いない)", r"彼女(?:いる|になって)", r"結婚してくれ",
        r"スリーサイズ", r"体型", r"スタイル(?:いい|がいい)", r"胸(?:が|の)(?:大き|小さ)", r"下着", r"裸", r"身体を(?:じろじろ|なめまわ)", r"じろじろ(?:見|体)",
        r"好みのタイプ", r"ストーカー", r"性的な",
    ),
    B.PERSONAL_ATTACK: (
        r"名字(?:を|は)?(?:教え|聞|調べ)", r"(?:家|自宅|住所)を(?:突き止め|調べ上げ|特定し)", r"子(?:供|ども)の学校", r"懲戒処分", r"首を(?:飛ば|切れ|きれ)", r"解雇(?:しろ|させ)", r"私生活",
        r"(?:自宅|家)に(?:電話|押しかけてき|来られ|来た)", r"休日に(?:連絡|電話)", r"退勤(?:を|時を)?(?:待|狙)", r"人事に言って(?:お前|あんた|担当)", r"(?:お前|あんた|担当者?)の上司に言って(?:クビ|処分)",
        r"フルネーム", r"(?:名前|氏名|下の名前)(?:を|は)?(?:教え|言え|名乗れ|聞かれ|聞いて(?:き|く)|聞き出|しつこく|調べ|控え|覚え|書け)", r"名乗れ",
        r"(?:住所|家|自宅|住まい)(?:を|は|も)?(?:教え|調べ|突き止め|特定|聞|言え|どこ)", r"どこに住ん", r"住んでる(?:場所|ところ|所)", r"家(?:は|を)知ってる", r"家族構成",
        r"(?:個人|私用|自分)の?(?:携帯|電話番号|連絡先|line|ライン|メアド|メールアドレス)", r"(?:携帯|電話)番号を(?:教え|聞か|聞いて(?:き|く)|聞き出|しつこく)", r"(?:個人的な|個人の|私の|僕の|俺の|職員の|担当(?:者)?の|お前の|あんたの|君の|自分の|プライベートの)連絡先", r"(?<!窓口の)(?<!相談先の)連絡先(?:を|も)?(?:しつこく|何度も)?(?:聞か|聞いて|聞き出|交換し)",
        r"連絡先を教え(?:ろ|て(?:くれ|よ|ほしい|欲しい))", r"line(?:を|の)?(?:交換|教え|id)", r"ライン(?:を|の)?(?:交換|教え)", r"プライベート", r"私的な", r"個人的に連絡", r"個人的な連絡", r"勤務時間外に", r"休みの日に",
        r"(?:クビ|首|くび)に(?:しろ|させ|してやる|する|なれ|しろよ)", r"(?:辞め|やめ)させ(?:ろ|る|てやる)", r"辞め(?:ろ|ちまえ|てしまえ|ちゃえ)", r"飛ばし(?:てやる|てもらう|てもらうぞ)", r"飛ばす(?:ぞ|からな)",
        r"(?:庁舎|会社|職場|店|駅|駐車場|出口|通用口|裏口|建物|役所)の?(?:外|前|近く)?で(?:待(?:たれ|って(?:い|た)|ち構え|ち伏せ))", r"(?:仕事|勤務)(?:終わり|帰り|後)に[^。]{0,10}?待(?:たれ|って|ち構え|ち伏せ)", r"処分(?:しろ|させ|を求め|を要求|しないと|を要求)", r"懲戒", r"左遷", r"異動させ", r"飛ばせ",
        r"担当者?(?:を|は)(?:替え|かえ|代え|外せ|はずせ|変え)", r"担当(?:替え|交代)", r"(?:上司|人事|市長|社長)に(?:言って|言いつけて)(?:クビ|処分|辞め)",
        r"待ち伏せ(?!してやる)", r"待ちぶせ", r"出待ち", r"後をつけ", r"あとをつけ", r"つけ回", r"つけまわ", r"尾行", r"付きまと", r"つきまと",
        r"(?:駐車場|駅|出口|通用口|裏口)で(?:待って|待ち構え)", r"帰り(?:道|を)(?:待|つけ)", r"(?:職員|担当者)個人", r"個人攻撃", r"家族(?:のこと)?(?:を|も)?(?:調べ|聞|知って)",
    ),
    B.SNS_EXPOSURE: (
        r"動画サイト", r"実況", r"バズらせ", r"晒し上げ", r"さらし上げ", r"まとめサイト", r"ブログに", r"ネットで(?:名前|実名|顔)", r"悪(?:評|い噂)を(?:流|広め)", r"グーグルマップ", r"googleマップ", r"星(?:1|一|ひとつ)(?:つけ|の評価)",
        r"写真を撮(?:ら|っ|り)", r"動画を撮(?:ら|っ|り)", r"録音して(?:ネット|sns|公開|流|晒)", r"ネットにアップ", r"ネットに(?:流|書|載せ|出)",
        r"(?:sns|ネット|インターネット|web|ウェブ|twitter|ツイッター|フェイスブック|facebook|tiktok|ティックトック|インスタ|instagram|youtube|ユーチューブ)(?:上)?(?:に|で|へ)(?!(?:す|した|しょ|申請|予約|調べ|手続|確認|見))", r"ツイート",
        r"(?<![a-z])x(?:に|で)(?:書|投稿|晒|さら|上げ|あげ|載せ|流)", r"youtuber", r"ユーチューバー", r"掲示板", r"[25]ちゃん", r"[25]ch", r"口コミ", r"クチコミ", r"レビューに", r"星1", r"星ひとつ",
        r"拡散", r"炎上", r"晒(?:さ|し|す|され)", r"さらさ", r"さらし", r"さらす", r"書き込(?:む|み|ん|ま)", r"書きこ", r"投稿", r"アップ(?:する|してやる|した|され|するぞ)",
        r"(?:動画|写真|画像|ネット|顔)(?:を)?(?:上げ|あげ|載せ|流|アップ|公開)", r"撮影", r"録画", r"盗撮", r"(?:動画|写真|顔|名札)(?:を)?(?:撮|と)(?:ら|り|っ|る)", r"撮(?:ら|っ|り|る)(?:れ|て|た|ている|てる)",
        r"スマホ(?:を|で)?(?:向け|かざ)", r"カメラを(?:向け|回)", r"配信", r"誹謗中傷", r"中傷", r"名誉毀損", r"悪評", r"実名で",
    ),
    B.EXCESSIVE_DEMAND: (
        r"金銭(?:を|の)?(?:要求|請求|要望)", r"規定外", r"規則外", r"要件外", r"対象外(?:なのに|の)", r"無料(?:サービス|で|に)", r"(?:一年分|1年分|永久|ずっと)(?:の)?(?:無料|タダ)",
        r"(?:商品券|金券|菓子折り|お詫びの品|品物)(?:を|も)?(?:よこせ|寄こせ|寄越せ|持ってこい|持って来い|出せ)", r"特別に[^。]{0,8}?(?:出せ|しろ|やれ|許可)", r"(?:自分|俺|私)だけ(?:先に|特別|優先|例外|早く)",
        r"先に(?:手続き|対応|処理)(?:しろ|して|を)", r"順番(?:なんか|は|など)?(?:関係ない|守らない|守ら)", r"(?:文書|書面)で(?:報告|回答)しろ", r"金品", r"解決金", r"見舞金", r"お見舞い金", r"金額を(?:提示|出せ)", r"サービスしろ", r"おまけしろ", r"個別(?:に)?対応しろ", r"専属(?:の)?担当",
        r"(?:夜中|深夜|土日|休日|営業時間外)(?:でも|も)(?:対応|来い|やれ)", r"送迎しろ", r"無理難題", r"前例(?:を)?(?:作れ|無視)", r"即日(?:やれ|対応しろ|しろ)", r"(?:自宅|家)まで(?:届け|持って来|説明しに来)", r"全額(?:返せ|返金しろ|弁償)",
        r"慰謝料", r"迷惑料", r"賠償(?:金|しろ|せよ|を求め|を要求|請求)", r"損害賠償", r"補償(?:金|しろ|せよ)", r"誠意(?:を見せ|をみせ|見せ|ってもの|を示せ|がない)",
        r"金(?:を)?(?:払え|はらえ|よこせ|寄こせ|出せ|だせ|返せ|で解決)", r"(?:金|かね|カネ)(?:で|を)?(?:誠意|解決)", r"(?:\d+|[一二三四五六七八九十百千]+)万(?:円)?(?:を|も)?(?:払え|よこせ|出せ|要求|請求|払って|持ってこい|寄こせ|だせ)",
        r"(?:\d+|[一二三四五六七八九十百千]+)万円?(?:の|を)?(?:慰謝料|賠償|補償|要求)", r"弁償しろ", r"全額返金(?:しろ|と)", r"倍(?:返し|にして返せ|額)", r"上乗せ",
        r"特別扱い", r"特別に(?:しろ|扱え|対応しろ|やれ)", r"優先(?:しろ|して(?:やれ|当然|当たり前|よこせ)|させろ)", r"先に(?:やれ|しろ|通せ|処理しろ)", r"優先的に(?:手続き|対応|処理|やれ|しろ|扱え)", r"順番を(?:飛ば|無視|抜か|譲れ)", r"割り?込",
        r"今すぐ(?:やれ|しろ|持ってこい|来い|直せ|対応しろ|出せ)", r"今日中に(?:やれ|しろ|持ってこい)", r"無料に(?:しろ|せよ)", r"タダに", r"ただにしろ", r"無償で(?:やれ|しろ)",
        r"規則(?:を)?(?:曲げ|無視)", r"ルール(?:を)?(?:曲げ|無視)", r"例外(?:を認め|にしろ|扱い)", r"特例(?:を認め|にしろ|扱い)", r"便宜を図", r"融通を?(?:きかせろ|利かせろ)",
        r"(?:家|自宅|うち)(?:まで|に)(?:持ってこい|届けろ|来い|こい|取りに来い|説明に来い)", r"書類なしで", r"手続きを(?:飛ば|省略)", r"過剰な要求", r"過大な要求", r"法外", r"無理な要求",
        r"(?:新品|新しいもの)(?:に|と)?(?:交換しろ|取り替えろ|取り換えろ)", r"(?:全部|すべて|全て)(?:タダ|無料)", 
        r"交通費(?:を)?(?:払え|出せ)", r"休業補償", r"示談金",
    ),
    B.APOLOGY_DEMAND: (
        r"謝罪状", r"詫び(?:を)?入れろ", r"公式に謝罪", r"誠意(?:ある|のある)謝罪", r"謝罪を(?:要求|求め|強要)", r"(?:市長|課長|部長|所長|社長|上司|責任者)に(?:謝罪|謝ら)(?:させ|しろ|に来)", r"土下座はいいから(?:謝|詫)",
        r"謝罪文", r"謝罪の?文書", r"詫び状", r"わび状", r"お詫び状", r"念書", r"始末書", r"一筆(?:書け|書かせ|よこせ|入れろ)", r"誓約書", r"反省文",
        r"謝れ(?!ば|る)", r"あやまれ(?!ば|る)", r"誤れ(?!ば|る)", r"謝らせ", r"謝罪(?:しろ|せよ|させ|を要求|を求め|を強要|を迫|を強い|を要求し)", r"謝罪会見", r"謝罪広告",
        r"謝り?に来い", r"謝罪に来い", r"頭を下げろ", r"頭下げろ", r"詫びろ", r"わびろ", r"詫びを入れ", r"(?:文書|書面)で(?:謝罪|謝|詫び)", r"謝罪文書", r"上司に謝らせ",
        r"謝り方が(?:悪い|なってない)", r"誠心誠意謝れ", r"心から謝れ", r"謝罪が足りない", r"ちゃんと謝", r"きちんと謝", r"土下座じゃなくていいから謝",
    ),
    B.AUTHORITY_PRESSURE: (
        r"市議会", r"県議会", r"議会で(?:取り上げ|質問|問題)", r"政治家", r"省庁", r"総務省", r"厚労省", r"警察(?:の)?(?:幹部|署長|上の人)(?:と|が|に)(?:知り合い|友達|いる)", r"上層部", r"役所のトップ", r"株主", r"後援会",
        r"自治会長(?:だぞ|なんだ|をやって)", r"(?:役所|会社|市|県)の(?:ob|OB|OB会)", r"地元の有力者", r"監督官庁", r"市民の代表", r"(?:新聞|テレビ|雑誌|週刊誌|ラジオ)(?:社|局|記者)?(?:に|へ)(?:言|投書|売|通報|連絡|タレ込|垂れ込|リーク|話|訴え|取材|ネタ|持ち込)", r"新聞沙汰", r"(?:テレビ|新聞|雑誌)に(?:出て|載って)(?:やる|話す|訴え)",
        r"市長", r"町長", r"村長", r"区長", r"知事", r"議員", r"市議", r"県議", r"区議", r"町議", r"代議士", r"大臣", r"国会",
        r"マスコミ", r"新聞社", r"テレビ局", r"報道", r"記者", r"週刊誌", r"メディア", r"ニュースに",
        r"社長(?:を出せ|に言う|に言いつけ|と知り合い|を知って|に直接|を呼べ|に話|に電話)", r"会長を出せ", r"本社に(?:言う|言いつけ|電話|クレーム)", r"本庁に(?:言う|言いつけ)",
        r"(?:上の|偉い)(?:人|奴|やつ|者)と知り合い", r"知り合い(?:の|に|が)(?:議員|市長|警察|弁護士|偉い|県|新聞|記者|大臣|幹部)", r"顔が利く", r"顔がきく", r"有力者", r"(?:俺|私|わし|わたし)を誰だと",
        r"誰だと思って", r"元(?:市|県|国|町)?(?:職員|議員|幹部)(?:だぞ|なんだ|だ)", r"(?:県|国|省|総務省|厚労省)に(?:言う|言いつけ|通報|訴え)", r"オンブズマン", r"監査請求", r"圧力",
    ),
}

# Keywords whose bare form names the code; used by behavior_code() when a short
# extracted value has no context (e.g. 「叩い」 alone is ambiguous and is not listed).
# They are matched as substrings; first table hit wins.

# --------------------------------------------------------------------------------------
# Channels
# --------------------------------------------------------------------------------------
C = SituationChannel

CHANNEL_PATTERNS: dict[SituationChannel, tuple[str, ...]] = {
    C.PHONE: (
        r"電話(?!番号|帳|代)", r"でんわ", r"tel(?![a-z])", r"架電", r"入電", r"通話", r"受話器", r"コールセンター", r"コール(?:で|中)", r"携帯に(?:かけ|かかっ)",
        r"電凸", r"着信", r"フリーダイヤル", r"代表番号に", r"問い合わせ電話", r"お問い合わせダイヤル",
    ),
    C.COUNTER: (
        r"窓口", r"まどぐち", r"カウンター", r"受付", r"対面", r"来庁", r"来所", r"来店", r"来館", r"来社", r"ロビー", r"庁舎",
        r"フロア", r"レジ", r"店頭", r"売り場", r"目の前", r"面談室", r"相談室", r"庁内", r"役所(?:に|へ)(?:来|乗り込)", r"直接(?:来|乗り込)", r"乗り込んで",
    ),
    C.VISIT: (
        r"訪問", r"家庭訪問", r"戸別訪問", r"お宅", r"(?:先方|相手|利用者|住民|顧客|お客さん|お客様)の(?:家|自宅|会社|事務所|店)", r"現場(?:で|に|対応|調査)", r"出張先", r"訪問先",
        r"伺っ(?:た|て)", r"うかがった", r"立ち入り", r"現地(?:で|調査)", r"外回り", r"配達先", r"工事先", r"点検(?:先|に行)", r"検針", r"呼びつけられ", r"呼び出されて(?:行っ|家)",
    ),
    C.EMAIL: (
        r"メール(?!アドレス)", r"e-?mail", r"めーる", r"問い合わせフォーム", r"お問い合わせフォーム", r"フォームから", r"webフォーム",
    ),
    C.SNS: (
        r"sns(?!に(?:晒|さら|書|上げ|あげ|載せ|流|拡散|投稿|アップ))", r"dm", r"ダイレクトメッセージ", r"コメント欄", r"リプライ", r"リプ(?:で|欄|が)", r"公式アカウント",
        r"(?:x|twitter|ツイッター|インスタ|facebook|line)(?:の|で)(?:dm|コメント|返信|メッセージ|公式)", r"公式line", r"チャット",
    ),
    C.LETTER: (
        r"手紙", r"文書で(?:届|送|来|苦情)", r"封書", r"郵送", r"郵便", r"はがき", r"ハガキ", r"葉書", r"投書", r"ファックス", r"fax", r"ファクス",
        r"書面(?:で|が)(?:届|送|来)", r"内容証明",
    ),
}

# --------------------------------------------------------------------------------------
# Negation right after a match: 「殴られてはいない」「暴言はありません」「怒鳴ってない」.
# --------------------------------------------------------------------------------------
_NEGATION_AFTER = re.compile(
    # a list before the negation: 「暴言や脅しはありません」「暴力とか暴言は一切ない」
    r"^(?:(?:や|とか|、|・)[^。、,.!?！？]{1,8}?(?:は|も|など(?:は|も)?)(?:一切|特に|全く|まったく)?"
    r"(?:ありません|ない|なかった|ありませんでした|無い|無かった|されていない|されてない|していない|してない|受けていない|受けてない))|^(?:[らりるれろられさしせっいかきくけこ]{0,3})"
    r"(?:たり|だり|て|で)?"
    r"(?:は|も|とは|とも|と|まで(?:は)?|など(?:は)?|とか(?:は)?|的な(?:こと|の)?(?:は|も)?|(?:する|される)?ような(?:こと)?(?:は|も)?|(?:する|される)?こと(?:は|も))?"
    r"(?:(?:要求|強要|求め|言わ|言っ|言|受け|さ|し|あり|あ|い|お|来|き)(?:ら|られ|れ|さ|され|し|て|で)?(?:て|で)?(?:は|も)?(?:い|お)?)?"
    r"(?:ない|ません|なかった|ねえ|ねー|ず(?!っ)|無い|無かった|なし|無し)(?!と|なら|んなら|限り|かぎり|うちに)"
)


@dataclass(frozen=True)
class LexiconMatch:
    code: str
    start: int
    end: int
    surface: str
    negated: bool = False


_SOUND_MARKS = {"\uff9e", "\uff9f", "\u309b", "\u309c", "\u3099", "\u309a"}


def _normalise_with_offsets(text: str) -> tuple[str, list[int]]:
    """NFKC + lower case, and for every output character the index of its source character.

    Half-width katakana with a separate sound mark (「ﾄﾞ」) is composed into one character.
    """
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char in _SOUND_MARKS and out:
            combined = unicodedata.normalize("NFKC", out[-1] + char)
            if len(combined) == 1:
                out[-1] = combined
                continue
        for folded in unicodedata.normalize("NFKC", char).lower():
            out.append(folded)
            origin.append(index)
    return "".join(out), origin


def _normalise(text: str) -> str:
    return _normalise_with_offsets(text)[0]


@lru_cache(maxsize=None)
def _compiled(kind: str) -> tuple[tuple[str, re.Pattern], ...]:
    table = BEHAVIOR_PATTERNS if kind == "behavior" else CHANNEL_PATTERNS
    return tuple((code.value, re.compile("|".join(f"(?:{p})" for p in patterns))) for code, patterns in table.items())


# A keyword used as a legal/category term in a question is not a reported behaviour:
# 「脅迫にあたりますか」「暴行罪になる？」.
_CATEGORY_AFTER = re.compile(r"^(?:罪(?:に|で|です|が|は|と|[?？]|$)|にあた|に当た|になり(?:ます|え)|になる(?:の)?[?？か]|って(?:なに|何)(?:ですか|[?？]|$)|とは|の定義|かどうか)")


_NOT_YET_AFTER = re.compile(r"^(?:ら|られ|れ|か|かれ|さ|され|り)?(?:そう(?:に|で|です|だ|な|。|、|!|！|$)|かけ(?:た|て|ました))")
_MAYBE_AFTER = re.compile(r"^[^。、,.!?！？]{0,6}?(?:かもしれ|かもわから|かも知れ)")


def _is_negated(norm: str, end: int) -> bool:
    rest = norm[end : end + 16]
    if _MAYBE_AFTER.match(rest):  # 「殺されるかもしれない」 is not a negation
        return False
    return bool(_NEGATION_AFTER.match(rest) or _CATEGORY_AFTER.match(rest) or _NOT_YET_AFTER.match(rest))


def _find(text: str, kind: str) -> list[LexiconMatch]:
    norm, origin = _normalise_with_offsets(text)
    raw: list[LexiconMatch] = []
    for code, pattern in _compiled(kind):
        for m in pattern.finditer(norm):
            if m.end() > m.start():
                start = origin[m.start()]
                end = origin[m.end() - 1] + 1
                if m.end() < len(origin) and origin[m.end()] > end:  # a merged sound mark
                    end = origin[m.end()]
                elif m.end() == len(origin):
                    end = len(text)
                raw.append(LexiconMatch(code, start, end, text[start:end], _is_negated(norm, m.end())))
    # Longer matches win over overlapping shorter matches of another code.
    raw.sort(key=lambda x: (-(x.end - x.start), x.start))
    kept: list[LexiconMatch] = []
    for cand in raw:
        if any(k.code != cand.code and cand.start < k.end and k.start < cand.end for k in kept):
            continue
        kept.append(cand)
    kept.sort(key=lambda x: (x.start, -(x.end - x.start)))
    return kept


def find_behaviors(text: str) -> list[LexiconMatch]:
    """Every behaviour keyword match (negated ones flagged), in order of appearance.

    Matches inside a phrase that names no behaviour (see NOT_BEHAVIOR_PATTERNS) are left out.
    """
    matches = _find(text or "", "behavior")
    vetoed = non_behavior_spans(text or "")
    if not vetoed:
        return matches
    return [m for m in matches if not any(s <= m.start and m.end <= e for s, e in vetoed)]


def find_channels(text: str) -> list[LexiconMatch]:
    """Every channel keyword match (negated ones flagged), in order of appearance."""
    return _find(text or "", "channel")


def _codes(matches: list[LexiconMatch]) -> list[str]:
    seen: list[str] = []
    for m in matches:
        if not m.negated and m.code not in seen:
            seen.append(m.code)
    return seen


def behaviors_in(text: str) -> list[Behavior]:
    """All behaviour codes mentioned (not negated) in a message, in order, no duplicates."""
    return [Behavior(code) for code in _codes(find_behaviors(text))]


def channel_in(text: str) -> SituationChannel | None:
    """The first channel mentioned in a message (None when none)."""
    codes = _codes(find_channels(text))
    return SituationChannel(codes[0]) if codes else None


def _value_code(value: str, kind: str, enum):
    if not value:
        return None
    stripped = value.strip()
    try:
        return enum(stripped)
    except ValueError:
        pass
    matches = [m for m in _find(stripped, kind)]
    if not matches:
        return None
    # An extracted value is short: ignore the negation flag (the caller judges context),
    # and take the longest match.
    best = max(matches, key=lambda m: (m.end - m.start, -m.start))
    return enum(best.code)


def behavior_code(text: str) -> Behavior | None:
    """The code for a behaviour surface form or code (None when it names none)."""
    value = _value_code(text, "behavior", Behavior)
    if value is not None:
        return value
    # Words that name a behaviour only in context (「外国人は帰れ」); as an extracted value
    # the model has already judged the context.
    return _BARE_BEHAVIOR.get(_normalise((text or "").strip()))


_BARE_BEHAVIOR: dict[str, Behavior] = {
    "外国人": B.DISCRIMINATION, "外国籍": B.DISCRIMINATION, "国籍": B.DISCRIMINATION, "女性蔑視": B.DISCRIMINATION,
    "叩い": B.PHYSICAL_ATTACK, "叩か": B.PHYSICAL_ATTACK, "押し": B.PHYSICAL_ATTACK, "誘": B.SEXUAL, "誘わ": B.SEXUAL,
    "家はどこ": B.PERSONAL_ATTACK, "何度も": B.PERSISTENT, "何回も": B.PERSISTENT, "繰り返し": B.PERSISTENT,
    "繰り返す": B.PERSISTENT, "毎日": B.PERSISTENT, "しつこく": B.PERSISTENT, "しつこい": B.PERSISTENT, "延々": B.PERSISTENT,
    "書く": B.SNS_EXPOSURE, "書き込む": B.SNS_EXPOSURE, "流す": B.SNS_EXPOSURE, "上げる": B.SNS_EXPOSURE,
    "払え": B.EXCESSIVE_DEMAND, "金": B.EXCESSIVE_DEMAND, "金銭": B.EXCESSIVE_DEMAND,
    
}


def channel_code(text: str) -> SituationChannel | None:
    """The code for a channel surface form or code (None when it names none)."""
    value = _value_code(text, "channel", SituationChannel)
    if value is not None:
        return value
    # Bare names that only make sense as an extracted value (「sns」「x」「line」).
    bare = _normalise((text or "").strip())
    return _BARE_CHANNEL.get(bare)


_BARE_CHANNEL: dict[str, SituationChannel] = {
    "sns": C.SNS, "x": C.SNS, "twitter": C.SNS, "ツイッター": C.SNS, "line": C.SNS, "ライン": C.SNS, "インスタ": C.SNS,
    "facebook": C.SNS, "ネット": C.SNS, "電話番号": C.PHONE, "携帯": C.PHONE, "ケータイ": C.PHONE, "スマホ": C.PHONE,
    "文書": C.LETTER, "書面": C.LETTER, "メールアドレス": C.EMAIL, "対面": C.COUNTER, "窓口対応": C.COUNTER, "来客": C.COUNTER,
    "自宅": C.VISIT, "家": C.VISIT, "先方": C.VISIT, "出先": C.VISIT,
}

# --------------------------------------------------------------------------------------
# Phrases that look like a behaviour but are not one; the NLU component drops model
# entities that fall inside them.
# --------------------------------------------------------------------------------------
NOT_BEHAVIOR_PATTERNS: tuple[str, ...] = (
    r"(?:何度も|何回も|なんども|なんかいも)(?=言|いわ|云)",  # 「デートしようと何度も言ってくる」: the repeat is not the behaviour
    r"名前を(?:出し|挙げ|あげ|使っ|出す)",  # 「議員の名前を出して」 is authority pressure, not a personal attack
    r"(?:障害|障がい|しょうがい)(?:の|が)ある(?:方|かた|人|お客)", r"障害者の方", r"(?:外国人|外国籍|外国)の(?:方|かた|お客)",
    r"車(?:いす|椅子)の方", r"(?:高齢|ご高齢)の方",
    r"(?:年寄り|老人|女|客|素人)だと思って(?:馬鹿|バカ|ばか|なめ|舐め)(?:に)?", r"(?:馬鹿|バカ|ばか)にして(?:ん|る|いる)の(?:か|？|\?)",  # the customer's own complaint
)
_NOT_BEHAVIOR = re.compile("|".join(f"(?:{p})" for p in NOT_BEHAVIOR_PATTERNS))


# A frequency word alone: persistent only if the lexicon also finds a repeated act.
_FREQUENCY_ONLY = re.compile(
    r"^(?:何度も|何回も|なんども|毎日(?:のように)?|毎回|毎週|連日|繰り?返し?|くりかえし|しつこ(?:く|い)|執拗に?|延々(?:と)?|再三|何度|何回|\d+回(?:目|も|以上)?)$"
)


def is_frequency_only(surface: str) -> bool:
    """True for a bare frequency word (「何度も」「毎日」「繰り返し」)."""
    return bool(_FREQUENCY_ONLY.match(_normalise((surface or "").strip())))


def non_behavior_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of phrases that name no behaviour although they contain such words."""
    norm, origin = _normalise_with_offsets(text or "")
    spans = []
    for m in _NOT_BEHAVIOR.finditer(norm):
        if m.end() > m.start():
            spans.append((origin[m.start()], origin[m.end() - 1] + 1))
    return spans


# --------------------------------------------------------------------------------------
# Refusal to leave: asked to leave (退去・帰って) and still there.
# --------------------------------------------------------------------------------------
_ASKED_TO_LEAVE = re.compile(
    r"(?:退去|退出|退庁|退館|お引き?取り|おひきとり|引き取|帰って(?:ください|下さい|もらえ|いただ|くれ|ほしい|欲しい)|お帰り(?:ください|下さい|いただ|願)"
    r"|帰るよう(?:に)?(?:言|お願い|求め|促|伝え)|帰れと(?:言|伝)|出て(?:いって|行って)(?:ください|下さい|くれ|ほしい|もらう)|出ていくよう|出て行くよう"
    r"|立ち去(?:って|るよう)|退去命令|退去を(?:求め|命じ|お願い|要請|促)|閉庁(?:です|なので|時間))"
)
_STILL_THERE = re.compile(
    r"(?:帰らない|帰らず|帰ろうとしない|帰ろうとせず|帰ってくれない|帰ってくれません|帰りません|帰らなく|居座|いすわ|居すわ|居残|座り込|動かない|動こうとしない|動きません"
    r"|出て(?:いか|行か)(?:ない|ず|ません)|出ていこうとしない|出て行こうとしない|立ち去らない|立ち去ろうとしない|応じない|応じず|応じません|聞かない|聞き入れ|無視|まだいる|まだ居る|まだいます|まだ居ます|残って(?:いる|る|います)|居続け|拒否|拒ま|拒んで)"
)


def mentions_refusal_to_leave(text: str) -> bool:
    """True when the customer was asked to leave and is still there.

    「退去をお願いしても帰らない」「帰ってくださいと言ったのに居座っている」 → True;
    「居座っている」 alone (never asked) or 「帰ってくださいと言ったら帰った」 → False.
    """
    norm = _normalise(text or "")
    asked = _ASKED_TO_LEAVE.search(norm)
    if not asked:
        return False
    still = _STILL_THERE.search(norm, asked.end())
    if still:
        return not _is_negated(norm, still.end())
    # 「居座っているので退去を求めたが応じない」: the still-there part comes first.
    before = _STILL_THERE.search(norm[: asked.start()])
    after_refusal = re.search(r"(?:応じ|聞き入れ|従わ|従い)(?:ない|ず|ません)|無視|拒", norm[asked.end():])
    return bool(before and after_refusal)


# --------------------------------------------------------------------------------------
# Export for Rasa's RegexFeaturizer (data/nlu/lookups.yml is generated from this and a
# test keeps the two in sync).
# --------------------------------------------------------------------------------------
def rasa_regex_features() -> dict[str, str]:
    """One regex per code, named ``behavior_<code>`` / ``channel_<code>``."""
    features: dict[str, str] = {}
    for prefix, table in (("behavior", BEHAVIOR_PATTERNS), ("channel", CHANNEL_PATTERNS)):
        for code, patterns in table.items():
            features[f"{prefix}_{code.value}"] = "|".join(f"(?:{p})" for p in patterns)
    return features
