"""Consultation records as files: JSON, and CSV that Excel opens safely (UTF-8 with BOM, cells
that a spreadsheet would run as a formula neutralised), with personal data masked on request.
Shared by `python -m bot records export` and the desk's export."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from bot.privacy import mask_personal_data

MASKED_TEXT_FIELDS = ("demand", "notes", "apologised_for", "injuries", "employee_condition")
MASKED_LIST_FIELDS = ("exact_words", "answers_given", "follow_up_items", "staff_present")
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def masked(record: dict) -> dict:
    """The record with personal data masked in every free-text field and message."""
    copy = dict(record)
    for name in MASKED_TEXT_FIELDS:
        if copy.get(name) is not None:
            copy[name] = mask_personal_data(copy[name])
    for name in MASKED_LIST_FIELDS:
        if name in copy:
            copy[name] = [mask_personal_data(item) for item in copy[name]]
    copy["messages"] = [{**m, "text": mask_personal_data(m["text"])} for m in record["messages"]]
    return copy


def render_json(records: list[dict], fields: Sequence[str]) -> bytes:
    rows = [{name: record[name] for name in fields} for record in records]
    return (json.dumps(rows, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def neutralise(cell: str) -> str:
    """A cell a spreadsheet shows as the text it is (prefixed with ' when it would be a formula)."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name == "messages":
        return "\n".join(f"{m['sent_at']} {m['text']}" for m in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "|".join(value)
    return str(value)


def render_csv(records: list[dict], fields: Sequence[str]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(fields)
    for record in records:
        writer.writerow([neutralise(_cell(name, record[name])) for name in fields])
    return buffer.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8
