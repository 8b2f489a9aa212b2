"""The rehearsal mode (研修モード): scenarios, the trainee's moves, the role-play engine, score
sheets, case studies and drills. Pure Python; the Rasa action is a thin adapter (actions/rehearsal.py)."""
