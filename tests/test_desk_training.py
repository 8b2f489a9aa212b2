"""Trainers see the rehearsal mode's training records in the desk web app; other roles do not."""
from __future__ import annotations

from bot.training_records import TrainingStore
from tests.test_desk import app, clock, settings, sign_in, store  # noqa: F401 - the desk's fixtures

SHEET = {"kind": "roleplay", "scenario": "03_verbal_abuse", "grade": "C", "score": 2, "total": 4, "outcome": "stopped",
         "detail": {"title": "窓口での暴言（暴言型）", "items": [
             {"id": "ask_to_stop", "label": "暴言をやめるようはっきりお願いした", "passed": False, "turn": None},
             {"id": "calm_first", "label": "まず受け止めた", "passed": True, "turn": 1}]}}


def test_a_trainer_sees_the_training_records_and_the_view_is_audited(app, database_url, store):  # noqa: F811
    training = TrainingStore(database_url)
    training.save(SHEET, "trainee-7", "slack")
    training.save({"kind": "drill", "scenario": None, "grade": None, "score": 9, "total": 10, "outcome": "answered",
                   "detail": {"answers": []}}, "trainee-8", "rest")
    training.dispose()
    client = sign_in(app, "trainer")
    page = client.get("/training")
    assert page.status_code == 200
    assert "研修記録" in page.text and "窓口での暴言（暴言型）" in page.text and "trainee-7" in page.text
    assert "暴言をやめるようはっきりお願いした" in page.text and "まず受け止めた" not in page.text
    assert "9/10" in page.text
    only_drills = client.get("/training?kind=drill")
    assert "trainee-8" in only_drills.text and "trainee-7" not in only_drills.text
    assert any(e["action"] == "training.view" and e["actor"] == "trainer" for e in store.audit_entries())


def test_desk_staff_and_supervisors_cannot_open_the_training_records(app):  # noqa: F811
    for username in ("desk", "boss"):
        assert sign_in(app, username).get("/training").status_code == 403
    assert app.test_client().get("/training").status_code in (302, 401)
