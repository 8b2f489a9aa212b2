"""The wording of a judgement: the reasons on both axes, the steps, the follow-up and the legal notes.

Plain instructions to the employee (short です・ます, never blame, never "endure it"); what to say to
the customer comes from the phrase library instead. Rules are in bot/assessment.py, which calls these.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from bot.codes import (
    ALWAYS_UNACCEPTABLE,
    CAUTION_FIRST,
    CRIMINAL_CONDUCT,
    DEPENDS_ON_VALIDITY,
    REMOTE_CHANNELS,
    Behavior,
    DemandBasis,
    DemandValidity,
    DepartureStep,
    Escalation,
    LegalRisk,
    Route,
    SituationChannel,
    Verdict,
    WarningLevel,
)

if TYPE_CHECKING:  # only for annotations: bot.assessment imports this module
    from bot.assessment import Case

AXIS_DEMAND = "要求内容の妥当性"
AXIS_MEANS = "手段・態様"

# One plain line per offence: what it needs. The police and lawyers decide; we name possibilities.
LEGAL_NOTES: dict[LegalRisk, str] = {
    LegalRisk.ASSAULT: "暴行罪：人に対して力を加えること（物を投げつけて当たらなかった場合も含みます）。",
    LegalRisk.INJURY: "傷害罪：暴行などでけがをさせること。",
    LegalRisk.INTIMIDATION_CRIME: "脅迫罪：命・体・自由・名誉・財産に害を加えると告げること（「晒すぞ」「家に行くぞ」も含みます）。",
    LegalRisk.COERCION: "強要罪：暴行や脅迫によって、義務のないこと（土下座・念書など）をさせること。要求だけではまだ成立しません。",
    LegalRisk.EXTORTION: "恐喝罪：脅して金銭や物を出させようとすること。",
    LegalRisk.NON_DEPARTURE: "不退去罪：退去を求められたのに、その場にとどまり続けること。",
    LegalRisk.CONFINEMENT: "監禁罪：人をその場から出られないようにすること。",
    LegalRisk.FORCIBLE_OBSTRUCTION: "威力業務妨害罪：大声・居座り・執拗な電話などの威力で業務を妨げること。",
    LegalRisk.DEFAMATION: "名誉毀損罪：人前やネット上など公然と、事実を挙げて人の評価を下げること。",
    LegalRisk.INSULT: "侮辱罪：人前やネット上など公然と、人をばかにすること（一対一の暴言だけでは成立しません）。",
    LegalRisk.SEXUAL_ASSAULT: "不同意わいせつ罪：同意のない性的な接触をすること。",
    LegalRisk.PROPERTY_DAMAGE: "器物損壊罪：他人の物（庁舎の備品や職員の持ち物）を壊したり使えなくしたりすること。",
}


def _labels(behaviors: frozenset[Behavior]) -> str:
    return "、".join(f"「{b.label}」" for b in Behavior if b in behaviors)


_BASIS_REASONS: dict[DemandBasis, str] = {
    DemandBasis.OUR_FAULT: "こちらに誤りや不備があるため、要求には正当な部分があります。",
    DemandBasis.WITHIN_SERVICE: "業務の範囲内の要望・問い合わせで、妥当な要求です。",
    DemandBasis.OPINION: "施策や業務へのご意見・ご提案で、業務改善のきっかけになる貴重なものです。",
    DemandBasis.REASONABLE_ACCOMMODATION: "障害者差別解消法にもとづく合理的配慮の申し出で、妥当な要求です（カスハラではありません）。",
    DemandBasis.NO_BASIS: "事実や根拠のない要求のため、妥当とはいえません。",
    DemandBasis.UNRELATED: "当方の業務と関係のない要求・話のため、妥当とはいえません。",
    DemandBasis.BEYOND_RULES: "規則や制度で認められる範囲を超える要求のため、妥当とはいえません。",
}


def _demand_reason(case: Case) -> str:
    if case.basis is DemandBasis.UNKNOWN:
        if case.facts.our_fault is False:
            return (f"{AXIS_DEMAND}：こちらに落ち度がないことだけでは、妥当でないとはいえません。"
                    "業務の範囲内の要望やご意見かどうかを確かめます。")
        return f"{AXIS_DEMAND}：要求に根拠があるかどうかは、まだわかりません。"
    return f"{AXIS_DEMAND}：{_BASIS_REASONS[case.basis]}"


def _means_reasons(case: Case) -> list[str]:
    facts, conduct = case.facts, case.facts.behaviors
    reasons = []
    if facts.danger:
        reasons.append(f"{AXIS_MEANS}：身に危険が迫っているため、判断より安全の確保を優先します。")
    harm = (conduct & CRIMINAL_CONDUCT)
    if harm or facts.injured or facts.property_damaged:
        acts = [_labels(harm)] if harm else []
        acts += ["けがをさせたこと"] * facts.injured + ["物を壊したこと"] * facts.property_damaged
        reasons.append(f"{AXIS_MEANS}：{'、'.join(acts)}は、要求内容にかかわらず犯罪にあたるおそれがあります。")
    if case.threat_to_expose:
        reasons.append(f"{AXIS_MEANS}：ネットに晒すと告げることは、名誉への害を告げる脅迫にあたるおそれがあります。")
    if case.stays:
        reasons.append(
            f"{AXIS_MEANS}：最終警告の後も立ち去らないため、警察への通報を考える段階です。"
            if case.past_final_warning
            else f"{AXIS_MEANS}：退去を求めても立ち去らないことは許されませんが、すぐの通報ではなく、順を追って退去を求めます。"
        )
    shown = (case.counted & ALWAYS_UNACCEPTABLE) - ({Behavior.SNS_EXPOSURE} if case.threat_to_expose else set())
    if shown:
        reasons.append(f"{AXIS_MEANS}：{_labels(shown)}は、要求内容にかかわらず社会通念上許されない手段です。")
    if case.cautioned:
        reasons.append(f"{AXIS_MEANS}：{_labels(case.cautioned)}は、まずやめるようお願いし、その後も続くかどうかで判断します。")
    if case.stopped:
        reasons.append(f"{AXIS_MEANS}：お願いの後、{_labels(conduct & CAUTION_FIRST)}はおさまっています。")
    if conduct & DEPENDS_ON_VALIDITY:
        labels = _labels(conduct & DEPENDS_ON_VALIDITY)
        reasons.append({
            DemandValidity.INVALID: f"{AXIS_MEANS}：妥当性のない要求に対する{labels}は、社会通念上相当とはいえません。",
            DemandValidity.VALID: f"{AXIS_MEANS}：{labels}は、こちらの誤りに見合った内容・程度なら正当になり得るため、相当かどうかを組織で判断します。",
            DemandValidity.UNKNOWN: f"{AXIS_MEANS}：{labels}が相当かどうかは、要求の根拠がわかってから判断します。",
        }[case.validity])
    if case.restraint:
        why = "説明の後も同じ話の繰り返しが続き" if facts.deadlock else "妥当性のない要求のために"
        reasons.append(f"{AXIS_MEANS}：{why}対応時間の上限（{case.limit}分）を超えて拘束することは、社会通念上相当とはいえません。")
    elif case.over and facts.vulnerable:
        reasons.append(f"{AXIS_MEANS}：長いお話の背景に、支援が必要な事情がありそうです。カスハラとはせず、やさしく区切ります。")
    if not reasons:
        reasons.append(f"{AXIS_MEANS}：不相当な手段は挙げられていません。口調や態度だけでカスハラとは判断しません。")
    if facts.self_harm:
        reasons.append("自分を傷つけるという発言は、職員への脅しではなく、命を守る対応が必要なサインです。")
    return reasons


_CONCLUSIONS: dict[Verdict, str] = {
    Verdict.CRIMINAL: "結論：犯罪のおそれがあるため、警察への通報・相談を含めて組織で対応します。",
    Verdict.HARASSMENT: "結論：手段・態様が不相当なため、カスタマーハラスメントにあたります。",
    Verdict.CAUTION: "結論：いまはカスハラとはせず、まずやめるようお願いします。続く場合はカスハラとして対応します。",
    Verdict.GRAY: "結論：この場では判断せず、組織として判断します。",
    Verdict.LEGITIMATE: "結論：正当なお申し出です。カスハラではありません。",
    Verdict.UNREASONABLE_REQUEST: "結論：要求には応じられませんが、手段に問題はないためカスハラではありません。",
}


def reasons_for(case: Case, verdict: Verdict) -> tuple[str, ...]:
    reasons = [_demand_reason(case), *_means_reasons(case), _CONCLUSIONS[verdict]]
    if verdict in (Verdict.HARASSMENT, Verdict.CRIMINAL) and case.validity is DemandValidity.VALID:
        reasons.append("要求の正当な部分には誠実に対応し、不相当な手段には応じません。")
    if case.over:
        reasons.append(f"対応時間：{case.facts.elapsed_minutes}分で、上限の{case.limit}分に達しています。")
    return tuple(reasons)


_REPORT = "上司とカスハラ相談窓口に報告してください。"
_RECORD = "日時・言葉どおりの発言・行為を記録してください（録音するときはその旨を伝えてください）。"


def _safety_steps(case: Case) -> list[str]:
    """Physical safety fits only where the customer is (or may come) near; never for written channels."""
    channel = case.facts.channel
    if channel in REMOTE_CHANNELS:
        return ["すぐに返信せず、画面や文面をそのまま保存してください。", "すぐに110番通報してください（危害の予告があるとき）。"]
    if channel is SituationChannel.VISIT:
        return ["すぐにその場を離れて外に出て、安全な場所から110番してください。", "職場に電話して状況を伝えてください。"]
    if channel is SituationChannel.PHONE:
        return ["身の危険が迫っていれば電話を切り、すぐに110番通報してください。", "周りの職員に合図し、上司にすぐ知らせてください。"]
    return ["相手から離れ、出口に近い安全な場所へ移動してください。", "すぐに110番通報してください。",
            "大きな声でほかの職員を呼び、一人で対応しないでください。"]


_WARNING_STEPS: dict[WarningLevel, str] = {
    WarningLevel.ASKED_TO_STOP: "「そのようなお言葉はおやめください」と、落ち着いてお願いしてください。",
    WarningLevel.WARNED: "「続くようでしたら、対応を終了します」と、はっきり警告してください。",
    WarningLevel.TOLD_RESPONSE_ENDS: "上司と相談のうえ「本日の対応は終了します」と伝え、対応を終えてください。",
}
_DEPARTURE_STEPS: dict[DepartureStep, str] = {
    DepartureStep.ASKED_TO_STOP: "まず、大声や居座りをやめるよう2〜3回お願いしてください（上司に同席を頼んでください）。",
    DepartureStep.ORDERED_TO_LEAVE: "上司と決めたうえで、施設管理権にもとづき「お引き取りください」と2〜3回求めてください。",
    DepartureStep.FINAL_WARNING: "「お引き取りいただけない場合は、警察に通報します」と最終警告してください。",
    DepartureStep.POLICE_CALLED: "それでも退去しないので、110番してください（急を要しないときは最寄りの警察署か#9110）。",
}


def _ending_step(case: Case) -> str:
    """After 「対応を終了します」 and still going on: end it in the channel's way."""
    channel = case.facts.channel
    if channel is SituationChannel.PHONE:
        return "「これで失礼いたします」と伝えて、電話を切ってください。"
    if channel is SituationChannel.VISIT:
        return "「本日はこれで失礼いたします」と伝え、その場を離れてください。"
    return "対応を終え、続くときは上司と退去を求める手順に進んでください。"


def steps_for(
    case: Case,
    verdict: Verdict,
    escalations: tuple[Escalation, ...],
    routes: tuple[Route, ...],
    next_warning: WarningLevel | None,
    next_departure: DepartureStep | None,
) -> tuple[str, ...]:
    facts, limit = case.facts, case.limit
    steps: list[str] = []
    if facts.self_harm:
        steps += (
            ["電話（会話）を切らずに、ゆっくり話を聴き続けてください。",
             "近くの職員に合図し、119番・110番に通報してもらってください。",
             "上司にすぐ知らせてください。"]
            if facts.ongoing
            else ["上司にすぐ伝え、相手の安否確認が必要か組織で判断してもらってください。"]
        )
    if Route.EMERGENCY in routes:
        steps += _safety_steps(case)
    if next_departure is not None:
        steps.append(_DEPARTURE_STEPS[next_departure])
    elif facts.departure_step is DepartureStep.POLICE_CALLED or (facts.police_called and case.stays):
        steps.append("警察が来たら経緯を説明し、録音やメモを渡してください。")
    if next_warning is not None:
        steps.append(_WARNING_STEPS[next_warning])
    elif (facts.ongoing and facts.warnings_given is WarningLevel.TOLD_RESPONSE_ENDS and facts.conduct_continued
          and not case.stays):
        steps.append(_ending_step(case))
    if facts.vulnerable:
        steps += ["「今日はこのあたりで失礼しますね」とやさしく区切ってください。",
                  "困りごとがありそうなら、地域包括支援センターなど福祉の相談先を案内してください。"]
    if case.over and not facts.vulnerable:
        if case.basis is DemandBasis.REASONABLE_ACCOMMODATION:
            steps.append(f"上限（{limit}分）を過ぎたので、続きの話し合いの日時を決めて、いったん区切ってください。")
        elif facts.ongoing:
            steps.append(
                f"上限（{limit}分）を過ぎました。本日の対応はここまでと伝え、回答は後日文書でお伝えしてください。"
                if case.validity is not DemandValidity.INVALID
                else f"上限（{limit}分）を過ぎました。「これ以上はお話を伺えません」と伝え、対応を終えてください。"
            )
        else:
            steps.append(f"上限（{limit}分）を超えていたため、次回は最初に対応できる時間を伝えてください。")
    if Route.REASONABLE_ACCOMMODATION in routes:
        steps += ["どんな配慮が必要か、ご本人と話し合ってください（建設的対話）。",
                  "できないときは理由を説明し、代わりの方法を一緒に考えてください。"]
    if Route.OPINION in routes:
        steps += ["ご意見へのお礼を伝え、「担当課に伝えます」とお答えしてください（議論や約束はしないでください）。",
                  f"録音していることを伝え、{limit}分を目安に区切ってください。",
                  "同じ内容の電話が続くときは上司に知らせ、組織として対応してもらってください（録音・回答の統一）。"]
    if verdict in (Verdict.CRIMINAL, Verdict.HARASSMENT):
        in_person_now = facts.ongoing and facts.channel not in REMOTE_CHANNELS
        if Route.EMERGENCY not in routes and facts.alone is not False and in_person_now:
            steps.append("一人で対応せず、ほかの職員に来てもらってください。")
        if Escalation.POLICE_9110 in escalations:
            steps.append("警察相談専用電話（#9110）か最寄りの警察署に相談してください。")
        if case.validity is DemandValidity.VALID:
            steps.append("要求の正当な部分には誠実に対応してください。")
        else:
            steps.append("応じられないことは「いたしかねます」とはっきり伝えてください。")
        if Route.TIME_LIMIT not in routes and facts.ongoing and not case.stays:
            steps.append("対応時間を区切り、同じ話の繰り返しになったら対応を終えると伝えてください。")
        steps += [_RECORD, _REPORT]
        if Escalation.LAWYER in escalations:
            steps.append("投稿や文面の画面・URLを保存し、顧問弁護士への相談を相談窓口に依頼してください。")
        steps.append("一人で抱え込まず、つらいときは産業医・健康相談を利用してください。")
    elif verdict is Verdict.CAUTION:
        if case.validity is DemandValidity.VALID:
            steps.append("要求の正当な部分には、落ち着いて誠実に対応してください。")
        elif case.validity is DemandValidity.INVALID:
            steps.append("応じられないことは「いたしかねます」と丁寧に伝えてください。")
        steps += ["お願いの後も続くかどうかを、言葉どおりメモしてください。",
                  "続くようなら、近くの上司に来てもらってください。"]
    elif verdict is Verdict.GRAY and not (facts.self_harm and facts.ongoing):
        steps += ["上司に報告し、組織として判断してもらってください。", "その場では約束や回答をしないでください。"]
        if case.validity is DemandValidity.UNKNOWN:
            steps.append("要求に根拠があるか（こちらの誤りか、業務の範囲内か）、事実を確認してください。")
    elif verdict is Verdict.LEGITIMATE:
        if case.basis is DemandBasis.OUR_FAULT:
            steps += ["こちらの誤りについて、はっきりお詫びしてください。", "原因を確かめ、改善・是正してください。"]
        elif Route.OPINION not in routes and Route.REASONABLE_ACCOMMODATION not in routes:
            steps.append("ご不便をおかけした点に限ってお詫びし、誠実に対応してください。")
        steps.append("要求をおだやかな言葉で復唱し、確かめてください。")
    elif verdict is Verdict.UNREASONABLE_REQUEST and not facts.vulnerable:
        steps += ["要求には応じられないことを、丁寧にはっきりと伝えてください。", "応じられない理由を説明してください。"]
    if case.over and verdict in (Verdict.LEGITIMATE, Verdict.UNREASONABLE_REQUEST, Verdict.CAUTION):
        steps.append("上司に状況を報告してください。")
    if facts.recorded is False and facts.ongoing and verdict is not Verdict.LEGITIMATE:
        steps.append("録音できるなら「記録のため録音します」と伝えて録音し、難しければメモをとってください。")
    return tuple(dict.fromkeys(steps))


def follow_up_for(case: Case, verdict: Verdict) -> tuple[str, ...]:
    """After-stage advice where the verdict calls for it (Tokyo manual 発生後)."""
    if verdict not in (Verdict.HARASSMENT, Verdict.CRIMINAL):
        return ()
    facts = case.facts
    found = ["相談窓口に記録を共有し、同じ相手からの次の連絡に備えて情報を共有してください。"]
    at_the_office = facts.channel in (None, SituationChannel.COUNTER)
    if at_the_office and (case.stays or case.counted & (CRIMINAL_CONDUCT | {Behavior.DETENTION}) or facts.property_damaged):
        found.append("繰り返すときは、施設管理権にもとづく出入禁止を組織で検討してもらってください。")
    if Behavior.PERSISTENT in case.counted or case.restraint or Behavior.SNS_EXPOSURE in case.counted:
        found.append("続くときは、顧問弁護士からの警告文（内容証明）や法的手続きを相談窓口と検討してください。")
    if case.over and case.validity is not DemandValidity.INVALID:
        found.append("打ち切った要求への回答は、後日、組織として文書でお伝えしてください。")
    if facts.injured or facts.property_damaged or Behavior.PHYSICAL_ATTACK in case.counted:
        found.append("けがや物の被害は診断書や写真を残し、警察への被害届を組織で検討してください。")
    if case.validity is DemandValidity.VALID:
        found.append("お申し出の正当な部分は、業務の改善につなげてください。")
    return tuple(found)


def legal_notes(risks: tuple[LegalRisk, ...]) -> tuple[str, ...]:
    """One plain line per possible offence, for 「くわしく」 and criminal verdicts."""
    return tuple(LEGAL_NOTES[risk] for risk in risks)
