"""Scripted trainee replies for every scenario: one good run and one poor run each, with the
score sheet a trainer expects (written by hand from the scenario's checklist)."""
from __future__ import annotations

STOP = "研修を終える"

# scenario id -> the good run's replies; every good run ends the conversation properly with A.
GOOD_RUNS: dict[str, list[str]] = {
    "01_time_restraint": [
        "お電話ありがとうございます。ご不便をおかけして申し訳ございません。",
        "税額を去年と同じにしてほしい、ということですね。",
        "申し訳ございませんが、税額は法律で決まっており、変更はいたしかねます。",
        "同じお話の繰り返しになっておりますので、これでお電話を終えさせていただきます。",
    ],
    "02_repeat": [
        "お電話ありがとうございます。恐れ入りますが、お名前を伺えますか。",
        "何度お話しいただいても、撤去しないというお答えは変わりません。",
        "この件は組織としてお答えしております。本日はこれで失礼いたします。",
    ],
    "03_verbal_abuse": [
        "お待たせしてしまい、申し訳ございません。",
        "そのようなお言葉は、おやめください。",
        "これ以上続くようでしたら、本日の対応は終了いたします。",
    ],
    "04_violence": [
        "机を叩くのはやめてください。",
        "物を投げるのはおやめください。これ以上続く場合は警察に通報します。",
        "上司を呼びます。ほかの職員も来ますので、お待ちください。",
    ],
    "05_threat": [
        "お電話ありがとうございます。この通話は録音させていただいております。",
        "そのようなご発言はおやめください。",
        "警察に相談いたします。本日はこれで終了いたします。",
    ],
    "06_authority": [
        "ご来庁ありがとうございます。お急ぎのお気持ちはわかります。",
        "申し訳ございませんが、順番を変えることはいたしかねます。",
        "この件は担当の私が承っております。特別な扱いはできません。",
        "番号札の順にご案内いたします。ほかの方法はございません。本日はこの対応で終了とさせてください。",
    ],
    "07_offsite_restraint": [
        "本日はお時間をいただき、ありがとうございます。工事でどのようなご迷惑があったか伺えますか。",
        "謝罪文の作成はいたしかねます。",
        "本日はこれで失礼いたします。続きは上司と相談し、職場からご連絡いたします。",
    ],
    "08_sns_defamation": [
        "職員の撮影はご遠慮ください。",
        "職員のフルネームはお伝えしておりません。",
        "上司に代わります。撮影をおやめいただけない場合は、対応を終了いたします。",
    ],
    "09_sexual_harassment": [
        "そのようなご発言は、おやめください。",
        "個人的なご質問やお誘いにはお答えできません。",
        "ご用件のお話に戻らせていただきます。本日はどのようなお手続きでしょうか。",
    ],
    "10_our_fault": [
        "それはご心配でしたね。恐れ入りますが、お名前とご連絡先を伺えますか。",
        "確認しましたところ、こちらの送付漏れでした。誠に申し訳ございません。",
        "本日中に保険証を再発行し、速達でお送りいたします。",
    ],
    "11_loud_legitimate": [
        "何度もお越しいただき、ご不便をおかけして申し訳ございません。",
        "もう来なくて済むようにしてほしい、ということですね。",
        "足りない書類の一覧をお渡しします。郵送でのお手続きもご用意できます。",
    ],
    "12_mixed": [
        "ご不快な思いをおかけして申し訳ございません。お客様番号を伺えますか。",
        "確認しましたところ、こちらの処理の誤りで二重に引き落としておりました。誠に申し訳ございません。"
        "二重の分はすぐに返金いたします。",
        "土下座や慰謝料のお支払いはいたしかねます。",
        "そのようなお言葉はおやめください。",
    ],
}

# scenario id -> (the poor run's replies, ending with STOP; {checklist id: turn} of the items
# passed — every other item is missed; for a "never" item the turn is where the mistake came).
POOR_RUNS: dict[str, tuple[list[str], dict[str, int | None], dict[str, int]]] = {
    # replies, items passed {id: turn or None}, mistakes {never-item id: turn}
    "01_time_restraint": (["はあ、何ですか。", "前向きに検討いたします。", "それはお客様の勘違いですよ。", STOP],
                          {"pin_down_demand": 1}, {"no_promise": 2, "no_retort": 1}),
    "02_repeat": (["はい。", "検討させていただきます。", "私の携帯番号は090-1234-5678です。", STOP],
                  {}, {"no_promise": 2, "no_personal_info": 3}),
    "03_verbal_abuse": (["うるさいですね！", "バカはそちらでしょう。", STOP], {}, {"no_retort": 1}),
    "04_violence": (["何するんですか、ふざけないでください！", "わかりました、受け付けます。なんとかします。", STOP],
                    {}, {"no_retort": 1, "no_promise": 2}),
    "05_threat": (["はい。", "私の自宅は駅前です、来ればいいでしょう。", STOP], {"no_retort": None}, {"no_personal_info": 2}),
    "06_authority": (["はい。", "今回だけ特別に先にやります。", STOP], {"no_retort": None}, {"no_promise": 2}),
    "07_offsite_restraint": (["はい。", "すべてこちらの責任です。謝罪文を書きます。", STOP], {"no_retort": None},
                             {"no_admission": 2}),
    "08_sns_defamation": (["勝手にしてください！", "下の名前は花子です。", STOP], {}, {"no_retort": 1, "no_personal_info": 2}),
    "09_sexual_harassment": (["え、いませんけど。", "LINEでよければお教えします。", STOP], {"no_retort": None},
                             {"no_personal_info": 2}),
    "10_our_fault": (["規則上、それはできません。", "書類が届かないのはお客様の住所が間違っているからでは？", STOP], {},
                     {"no_firmness": 1, "no_argue": 2}),
    "11_loud_legitimate": (["大きな声を出されると困ります。", "お引き取りください。警察を呼びますよ。", STOP],
                           {"no_retort": None}, {"not_harassment": 2}),
    "12_mixed": (["はい。", "すべてこちらの責任です。慰謝料をお支払いいたします。", STOP], {"no_retort": None},
                 {"no_admission": 2}),
}
