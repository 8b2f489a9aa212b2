"""The domain core under bot/ imports neither Rasa nor SQL: it runs and is tested without them.

Rasa plug-ins live in bot/rasa/, channels in bot/channels/, SQL in the storage modules listed
below; everything else at the top of bot/ must import with those packages unavailable.
"""
import subprocess
import sys
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"
BLOCKED = ("rasa", "rasa_sdk", "sanic", "sqlalchemy", "tensorflow", "spacy")
STORAGE_MODULES = {"bot.database", "bot.schema", "bot.records", "bot.timer_service", "bot.commands.records", "bot.training_records", "bot.commands.training"}
BLOCKER = f"""
import importlib.abc, sys
class Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {BLOCKED!r}:
            raise ImportError("blocked in this test: " + name)
sys.meta_path.insert(0, Blocked())
"""


def pure_modules() -> list[str]:
    names = []
    for path in sorted([*BOT.glob("*.py"), *BOT.glob("commands/*.py")]):
        parts = path.relative_to(BOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if name not in STORAGE_MODULES and parts[-1] != "__main__":
            names.append(name)
    return names


def test_the_domain_core_imports_without_rasa_or_sql():
    modules = pure_modules()
    assert "bot.assessment" in modules and "bot.codes" in modules
    code = BLOCKER + "".join(f"import {name}\n" for name in modules)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=BOT.parent, timeout=60)
    assert result.returncode == 0, result.stderr


def test_the_blocker_really_blocks():
    result = subprocess.run([sys.executable, "-c", BLOCKER + "import sqlalchemy\n"],
                            capture_output=True, text=True, cwd=BOT.parent, timeout=60)
    assert result.returncode != 0 and "blocked in this test" in result.stderr
