"""Masking of personal data in free text (demands, notes, messages) before it leaves the store.

Masked:
- e-mail addresses (ASCII or full-width letters, ``@`` or ``＠``) → ``[メールアドレス]``
- postal codes written with 〒 (〒123-4567, 〒1234567, full-width digits) → ``〒[郵便番号]``
- Japanese phone numbers → ``[電話番号]``: 10 or 11 digits starting with 0 (or +81 and 9–10
  digits), unseparated or split into three groups by hyphens (any width, incl. ー), spaces or
  parentheses: 090-1234-5678, 03(1234)5678, (03)1234-5678, 0120-123-456, ０９０１２３４５６７８,
  +81-90-1234-5678
- names of 1–6 kanji/katakana directly followed by an honorific (様, さま, さん, 氏, くん, ちゃん):
  「山田様」→「●●様」, 「スズキさん」→「●●さん」

Not masked (by design, to keep ordinary words readable, or because they cannot be told apart):
- names without an honorific (「山田が来た」), names in hiragana (「さくらさん」), names longer than
  6 characters, and names preceded by お/ご/御 (「お客様」「ご主人様」 are not names)
- common nouns before an honorific listed in _NOT_NAMES (「皆様」「担当者様」「店長さん」); any other
  kanji word there is masked with the name (「今日山田さん」→「●●さん」)
- postal codes without 〒, addresses, birth dates, ages, ID/account numbers, and phone numbers
  with other digit counts, other separators (dots, slashes) or spelled out in words
- e-mail addresses written in words (``taro at example dot com``)
"""
from __future__ import annotations

import re

PHONE_MASK = "[電話番号]"
EMAIL_MASK = "[メールアドレス]"
POSTAL_MASK = "〒[郵便番号]"
NAME_MASK = "●●"

_D = "[0-9０-９]"
_Z = "[0０]"
_HYPHEN = "\\-－‐‑‒–—―−ー"
_SEP = f"[{_HYPHEN} \u3000]"
_OPEN = "[(（]"
_CLOSE = "[)）]"
_PLUS81 = "[+＋](?:81|８１)"

_EMAIL = re.compile(
    r"[A-Za-z0-9Ａ-Ｚａ-ｚ０-９._%+\-．＿＋－]+[@＠]"
    r"[A-Za-z0-9Ａ-Ｚａ-ｚ０-９\-－]+(?:[.．][A-Za-z0-9Ａ-Ｚａ-ｚ０-９\-－]+)*[.．][A-Za-zＡ-Ｚａ-ｚ]{2,}"
)
_POSTAL = re.compile(rf"〒[ \u3000]?{_D}{{3}}[{_HYPHEN}]?{_D}{{4}}(?!{_D})")
_PHONE = re.compile(
    # Not the tail of a longer number (digits, or digits and a hyphen, just before).
    rf"(?<!{_D})(?<!{_D}[{_HYPHEN}])"
    r"(?:"
    # three groups: area code (plain, in parentheses, or after +81), exchange, subscriber
    rf"(?:{_OPEN}{_Z}{_D}{{1,4}}{_CLOSE}{_SEP}?|{_Z}{_D}{{1,4}}(?:{_SEP}|{_OPEN})"
    rf"|{_PLUS81}{_SEP}?(?:{_OPEN}{_Z}{_CLOSE})?{_D}{{1,4}}{_SEP})"
    rf"{_D}{{1,4}}(?:{_SEP}|{_CLOSE}){_SEP}?{_D}{{3,4}}"
    # or one unseparated run
    rf"|{_Z}{_D}{{9,10}}|{_PLUS81}{_D}{{9,10}}"
    r")"
    rf"(?!{_D})(?![{_HYPHEN}]{_D})"
)

_NAME_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヵヶ\u30a1-\u30fa\u30fc\uff66-\uff9f"
_NAME = re.compile(
    rf"(?<![{_NAME_CHARS}おご御])([{_NAME_CHARS}]{{1,6}})"
    # 様々/様子/様式…, 氏名/氏族 are words, not honorifics
    r"(様(?![々子式相態変])|さま|さん|氏(?![名族])|くん|ちゃん(?!と))"
)
# Common nouns that take an honorific; compared with the whole kanji/katakana run.
_NOT_NAMES = frozenset(
    """
    客 皆 神 仏 奥 王 殿 姫 同 模 仕 多 異 一 今 有 番 彼 彼女 貴方 貴女 各 皆々
    家族 主人 旦那 夫 妻 父 母 兄 姉 弟 妹 息子 娘 子 孫 祖父 祖母 親 親御 嫁 婿 叔父 叔母 伯父 伯母
    相手 相手方 先方 当方 担当 担当者 責任者 代表者 利用者 申請者 住民 市民 区民 町民 村民 県民 都民
    患者 顧客 客人 店員 職員 駅員 社員 係員 窓口 店長 社長 部長 課長 係長 所長 院長 園長 校長 会長 上司
    先生 医者 看護師 先輩 後輩 隣 近所 大家 業者 運転手 警察 警官 役所 区役所 市役所 会社 御社 貴社
    オーナー ユーザー クライアント ゲスト メンバー スタッフ ママ パパ ドライバー ヘルパー カスタマー
    """.split()
)


def _phone(match: re.Match[str]) -> str:
    text = match.group()
    digits = sum(ch.isdigit() for ch in text)
    if text[0] in "+＋":
        return PHONE_MASK if digits in (11, 12) else text  # 81 + 9–10 digits
    return PHONE_MASK if digits in (10, 11) else text


def _name(match: re.Match[str]) -> str:
    name, honorific = match.groups()
    return match.group() if name in _NOT_NAMES else NAME_MASK + honorific


def mask_personal_data(text: str) -> str:
    """The text with e-mail addresses, 〒 postal codes, phone numbers and honorific names masked."""
    text = _EMAIL.sub(EMAIL_MASK, text)  # first: addresses may contain phone-like digits
    text = _POSTAL.sub(POSTAL_MASK, text)
    text = _PHONE.sub(_phone, text)
    return _NAME.sub(_name, text)
