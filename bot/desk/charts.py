"""Trend charts as PNG, drawn server-side with matplotlib (Agg) in a Japanese font
(Debian's fonts-noto-cjk, installed by `make install`)."""
from __future__ import annotations

import io
import threading
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from matplotlib import font_manager  # noqa: E402  (after choosing the backend)
from matplotlib.figure import Figure  # noqa: E402

from bot.desk_rules import Count  # noqa: E402

FONT_FILES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJKjp-Regular.otf"),
)
BAR_COLOUR = "#2f5d8a"
# matplotlib's font machinery is not thread-safe; the desk serves requests on several threads.
_DRAWING = threading.Lock()


class FontMissing(RuntimeError):
    pass


@lru_cache(maxsize=1)
def japanese_font() -> str:
    """The family name of the installed CJK font, registered with matplotlib."""
    for file in FONT_FILES:
        if file.is_file():
            font_manager.fontManager.addfont(str(file))
            return font_manager.FontProperties(fname=str(file)).get_name()
    raise FontMissing(f"no Japanese font: install Debian's fonts-noto-cjk (make install); looked for {FONT_FILES}")


def bar_chart_png(count: Count, width: float = 6.0) -> bytes:
    """A horizontal bar chart of one count, labels top to bottom in the count's order."""
    family = japanese_font()
    height = max(1.6, 0.5 + 0.32 * max(1, len(count.labels)))
    with _DRAWING:
        figure = Figure(figsize=(width, height), dpi=100)
        axes = figure.subplots()
        labels = list(reversed(count.labels)) or ["（なし）"]
        values = list(reversed(count.values)) or [0]
        bars = axes.barh(labels, values, color=BAR_COLOUR)
        axes.bar_label(bars, padding=3, fontfamily=family, fontsize=9)
        axes.set_title(f"{count.title}（計{count.total}件）", fontfamily=family, fontsize=11, loc="left")
        for label in axes.get_yticklabels() + axes.get_xticklabels():
            label.set_fontfamily(family)
            label.set_fontsize(9)
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.spines[["top", "right"]].set_visible(False)
        axes.set_xlim(0, max(values + [1]) * 1.15)
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png")
        return out.getvalue()
