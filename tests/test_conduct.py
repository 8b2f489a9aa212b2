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
    # conduct the keyword-only lexicon used to miss
    ("いきなり殴りかかってきました", [B.PHYSICAL_ATTACK]),
    ("カウンター越しに殴ろうとしてきた", [B.PHYSICAL_ATTACK]),
    ("説教が２時間続いています", [B.DETENTION]),
    ("電話を切ってもすぐにかけ直してきます", [B.PERSISTENT]),
    ("何度説明しても納得してくれない", [B.PERSISTENT]),
    ("閉庁後に通用口で待ち伏せされていた", [B.THREAT]),
    ("帰りに後をつけられました", [B.THREAT]),
    ("パーテーションを壊されました", [B.PHYSICAL_ATTACK]),
    ("「土下座したら許してやる」と言われた", [B.DOGEZA_DEMAND]),
    ("慰謝料を払えないならマスコミに言うと言われた", [B.EXCESSIVE_DEMAND, B.AUTHORITY_PRESSURE]),
    # 上司を出せ: a demand (the guidance answers it), pressure only with a threat attached
    ("上司を出せと言われています", []),
    ("上司を出せ、出さないなら議員に言いつけるぞと言われた", [B.AUTHORITY_PRESSURE]),
    ("市長を出せと言われてる", [B.AUTHORITY_PRESSURE]),
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
    ("市議会議員の事務所から問い合わせがありました", []),
    ("ネットで申し込めるか聞かれました", []),
    ("写真を撮ってもいいかと聞かれたので断りました", []),
    ("慰謝料の請求方法を聞かれました", []),
    ("私が何度も電話をかけ直しました", []),
    ("お子さんが泣き叫んでいました", []),
    ("ご主人に暴力を振るわれているという相談でした", []),
    ("パソコンが壊れて困っています", []),
    ("何度も電話してすみませんと恐縮されていました", []),
    # issue 8: attempts count, harm to or by others does not
    ("殴られそうになった", [B.PHYSICAL_ATTACK]),
    ("帰り道で待ち伏せされた", [B.THREAT]),
    ("殴られそうで怖いです", []),
    ("庁舎の階段で転んでケガをした", []),
    ("クマを殺すな", []),
    ("隣人に「ぶっ殺すぞ」と言われたという市民の方が相談に来ました", []),
    ("「殺すぞ」と言われたと、お店の前で", [B.THREAT]),
    ("お兄さんが部屋で暴れて困っているという相談を受けました", []),
    ("夫が家で暴れているそうです", []),
    ("課長が「謝罪文を書きます」と約束してしまいました", []),
    ("受付の職員に「日本人に代われ」と言われた", [B.DISCRIMINATION]),
    ("「兄に殴られた」と泣いている方が来ました", []),
    ("係長が代わってくれましたが同じ話の繰り返しです", [B.PERSISTENT]),
    ("「疲れて死にそう、殺す気か」とお客さんが冗談っぽく笑ってました", []),
    ("訪問販売の業者に脅されて高い布団を買わされたという相談", []),
    ("SNSで悪口を書かれて眠れないという市民の方から相談がありました", []),
    ("順番のことで、待っているお客さん同士が言い争っています", []),
    ("物忘れがあるようで、同じ質問を何度も電話でされます", []),
    ("折り返しが来ないと何度も電話をくださった方です", []),
    ("同じ質問を何度も電話でしてきて、最後は「バカ」と", [B.PERSISTENT, B.VERBAL_ABUSE]),
    ("業者の者ですが、お客さんに脅されています", [B.THREAT]),
    ("三回お願いしましたが帰りません", [B.DETENTION]),
    ("患者さんのご家族に「女のくせに口答えするな」と言われました", [B.DISCRIMINATION]),
    ("「障害者雇用の職員なんか出すな」と言われました", [B.DISCRIMINATION]),
    ("要求は担当職員の処分です", [B.PERSONAL_ATTACK]),
    ("「市長と同級生だ」と言って粘っています", [B.AUTHORITY_PRESSURE]),
    ("私が書類を破り捨ててしまいました", []),
    ("「料金を三倍にして返せ」と言われています", [B.EXCESSIVE_DEMAND]),
    ("「三つ指ついて謝れ」と言われました", [B.DOGEZA_DEMAND, B.APOLOGY_DEMAND]),  # one demand: see BehaviorCodeNormalizer
    ("「理事長とは知り合いだ」と言っています", [B.AUTHORITY_PRESSURE]),
    ("「支店長を出せ」と言われました", []),
    ("違う内容の質問のメールが三通来ていますが、普通の質問です", []),
    # feelings, opinions, games and denials with a violent word in them
    ("正直、蹴飛ばしたいくらい腹が立ちました", []),
    ("「シカを撃ち殺すなんて残酷だ」というご意見のお電話です", []),
    ("ゲームで弟をボコボコにしたと笑っていました", []),
    ("試合のチケットの件で、売り場で殴られました", [B.PHYSICAL_ATTACK]),
    ("映画のセリフをまねて「土下座しろ！」とふざけて言っていました", []),
    ("「殺してやるって歌詞の歌」についての問い合わせです", []),
    ("「土下座しろ！」と怒鳴られました", [B.DOGEZA_DEMAND, B.INTIMIDATION]),
    ("使わなくなったナイフの処分方法を聞かれました", []),
    ("ナイフを出して「刺すぞ」と言われました", [B.THREAT]),
    ("県議さんの紹介で来たという方の相談です", []),
    ("「県議に言うぞ」と言われています", [B.AUTHORITY_PRESSURE]),
    ("弁護士事務所の連絡先を聞かれました", []),
    ("私の連絡先をしつこく聞かれました", [B.PERSONAL_ATTACK]),
    ("蹴られたのはお客さんご本人で、やったのは元夫だそうです", []),
    ("大声を出していたのは順番待ちの方同士です", []),
    ("隣の家の人に殴られたと通報してきた方がいます", []),
    ("エキストラの応募方法を聞かれました", []),
    ("キスしようとしてきました", [B.SEXUAL]),
    ("居座るとかはなくて、説明を聞いたらすぐ帰られました", []),
    ("課長に怒鳴られて落ち込んでいます", []),
    ("別の利用者さんに押されたと怒っています", []),
    ("娘さんからの暴言でお困りのお母さんが来られました", []),
    ("売店の爆弾おにぎりが人気です", []),
    # someone else did it to the customer, a quotation in between
    ("おじいさんが、電話の勧誘業者に「契約しないと損するぞ」と脅されたと相談に来ました", []),
    ("お客さまが「別れた夫に住所を知られて、殺すと言われた」と泣いていました", []),
    ("近所の若い男に自転車を蹴られたと話す方が来られました", []),
    ("知らない男に後をつけられたという女性を保護しました", []),
    ("「痴漢に遭ったので駅員さんに相談したい」とのことでした", []),
    # but the customer's family is the customer, and a target is not an agent
    ("訪問先のお宅のご主人にいきなり胸を押されました", [B.PHYSICAL_ATTACK]),
    ("利用者のお父さんに腕をつかまれました", [B.PHYSICAL_ATTACK]),
    ("書類を職員に向かって投げつけられました", [B.PHYSICAL_ATTACK]),
    # words of opinions, titles, goods, praise, claims
    ("「こんな計画は町を殺すのと同じだ」とのご意見でした", []),
    ("「見殺しにする気か」と行政の対応を批判するお手紙です", []),
    ("「鹿を撃つなんて虐殺と同じだ」とおっしゃっていました", []),
    ("映画「血まみれの殺人鬼」のチラシを置いてほしいと言われました", []),
    ("ホームセンターの刃物売り場の場所を聞かれました", []),
    ("届いた箱の品名に「ナイフ」と書いてありました。調理用のナイフでした", []),
    ("キッチンカーの爆弾からあげが売り切れです", []),
    ("「ネットのレビューに、ここの職員さんが親切で良かったと書きますね」と言われた", []),
    ("「またあなたに担当をお願いしたいから、名前を教えて」と言われました", []),
    ("車の傷の写真を撮って、補償の相談をされました", []),
    ("「土下座」という言葉は一度も出ていません", []),
    # wordings of conduct the lexicon lacked (dialect, no particles)
    ("「床に正座してちゃんと謝れ」と言われました", [B.DOGEZA_DEMAND]),
    ("「次来よったら足へし折ったるぞ」と言われた", [B.THREAT]),
    ("「携帯ば教えろ」と三十分", [B.PERSONAL_ATTACK]),
    ("窓口でパンフレットをばらまかれました", [B.INTIMIDATION]),
    ("帰ろうとしたら通せんぼされました", [B.DETENTION]),
    ("「半年分の使用料をまとめて返せ」と言われています", [B.EXCESSIVE_DEMAND]),
    ("一年分の保険料の免除の手続きを聞かれました", []),
    # counted repetition
    ("今日だけで十五回目の着信です", [B.PERSISTENT]),
    ("同じ方から連続十日、毎朝です", [B.PERSISTENT]),
    ("問い合わせフォームから一晩で４０件届いていました", [B.PERSISTENT]),
    ("これで今日もう八回目です", [B.PERSISTENT]),
]


@pytest.mark.parametrize("text, codes", CASES)
def test_behaviours_respect_who_did_what(text, codes):
    assert behaviors_in(text) == codes


def test_the_reason_is_kept_on_the_match():
    reasons = {m.not_conduct for m in find_behaviors("クマを殺すな")}
    assert reasons == {"prohibition"}
    assert {m.not_conduct for m in find_behaviors("もし殴られたら")} == {"hypothetical"}
