"""Case study (事例検討) and the drill 「正当なクレームとの違い」: the trainee judges written cases
with buttons, and the answer is compared with bot.assessment's judgement of the case's facts.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.assessment import Assessment, Facts, FactsError, assess
from bot.codes import HarassmentType, NextStep, Verdict
from bot.rehearsal.scenarios import CASE_VERDICTS, Case, ScenarioError, _Reader, facts_path

NO_TYPE = "none"  # the trainee's answer "no harassment type"
NEXT_STEP_FOR: dict[Verdict, NextStep] = {
    Verdict.LEGITIMATE: NextStep.SINCERE_FIX,
    Verdict.UNREASONABLE_REQUEST: NextStep.POLITE_REFUSAL,
    Verdict.HARASSMENT: NextStep.STOP_AND_END,
    Verdict.CRIMINAL: NextStep.POLICE,
}


@dataclass(frozen=True)
class CaseAnswer:
    verdict: Verdict
    type: str  # a HarassmentType code or NO_TYPE
    next_step: NextStep


@dataclass(frozen=True)
class CaseFeedback:
    verdict_correct: bool
    type_correct: bool
    next_step_correct: bool
    assessment: Assessment
    expected_next_step: NextStep

    @property
    def correct(self) -> int:
        return self.verdict_correct + self.type_correct + self.next_step_correct

    def to_dict(self) -> dict:
        return {
            "verdict_correct": self.verdict_correct, "type_correct": self.type_correct,
            "next_step_correct": self.next_step_correct, "expected_verdict": self.assessment.verdict.value,
            "expected_types": [t.value for t in self.assessment.types],
            "expected_next_step": self.expected_next_step.value,
        }


def judge_case(case: Case, answer: CaseAnswer, time_limit_minutes: int = 30) -> CaseFeedback:
    result = assess(case.facts, time_limit_minutes)
    types = {t.value for t in result.types}
    expected_step = NEXT_STEP_FOR[result.verdict]
    return CaseFeedback(
        verdict_correct=answer.verdict is result.verdict,
        type_correct=answer.type in types if types else answer.type == NO_TYPE,
        next_step_correct=answer.next_step is expected_step,
        assessment=result,
        expected_next_step=expected_step,
    )


def _mark(ok: bool) -> str:
    return "○" if ok else "×"


def render_case_feedback(feedback: CaseFeedback, answer: CaseAnswer) -> str:
    result = feedback.assessment
    types = "、".join(t.label for t in result.types) or "該当なし"
    chosen_type = HarassmentType(answer.type).label if answer.type != NO_TYPE else "該当なし"
    lines = [
        f"【研修】事例検討の結果：{feedback.correct}/3 問正解",
        f"{_mark(feedback.verdict_correct)} 判断：あなた「{answer.verdict.label}」／ 判定「{result.verdict.label}」",
        f"{_mark(feedback.type_correct)} 類型：あなた「{chosen_type}」／ 判定「{types}」",
        f"{_mark(feedback.next_step_correct)} 次の対応：あなた「{answer.next_step.label}」／ 判定「{feedback.expected_next_step.label}」",
        "理由：",
        *(f"・{reason}" for reason in result.reasons),
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class DrillCase:
    id: str
    text: str
    facts: Facts

    def is_legitimate(self) -> bool:
        return assess(self.facts).verdict is Verdict.LEGITIMATE


def parse_drills(text: str, file: str) -> tuple[DrillCase, ...]:
    """The drill file: `cases:` a list of {id, text, facts}; half of them legitimate complaints."""
    reader = _Reader(file, text)
    data = reader.mapping((), reader.data, {"cases"}, ("cases",))
    items = data["cases"]
    if not isinstance(items, list) or len(items) < 2:
        raise reader.error(("cases",), "cases must be a list of at least two cases")
    cases, seen = [], set()
    for index, item in enumerate(items):
        path = ("cases", index)
        entry = reader.mapping(path, item, {"id", "text", "facts"}, ("id", "text", "facts"))
        case_id = reader.text((*path, "id"), entry["id"])
        if case_id in seen:
            raise reader.error((*path, "id"), f"case id '{case_id}' is used twice")
        seen.add(case_id)
        try:
            facts = Facts.from_dict(entry["facts"])
        except FactsError as error:
            raise reader.error(facts_path((*path, "facts"), error.field), f"facts: {error.field}: {error.message_en}") from None
        if assess(facts).verdict not in CASE_VERDICTS:
            raise reader.error((*path, "facts"), f"the facts give '{assess(facts).verdict.value}'; "
                               "a drill case needs a clear verdict (add the facts that decide it)")
        cases.append(DrillCase(case_id, reader.text((*path, "text"), entry["text"]), facts))
    legitimate = sum(case.is_legitimate() for case in cases)
    if legitimate * 2 != len(cases):
        raise reader.error(("cases",), f"half of the drill cases must be legitimate complaints ({legitimate} of {len(cases)} are)")
    return tuple(cases)


def load_drills(path: Path) -> tuple[DrillCase, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{path}:1: cannot read: {error}") from None
    return parse_drills(text, str(path))


def render_drill_feedback(case: DrillCase, said_legitimate: bool) -> str:
    result = assess(case.facts)
    right = said_legitimate == (result.verdict is Verdict.LEGITIMATE)
    conclusion = next((r for r in result.reasons if r.startswith("結論")), result.reasons[-1])
    return "\n".join([
        f"【研修】{_mark(right)} {'正解' if right else '不正解'}です。判定：「{result.verdict.label}」",
        *(f"・{reason}" for reason in result.reasons if reason.startswith(("要求", "手段"))),
        f"・{conclusion}",
    ])
