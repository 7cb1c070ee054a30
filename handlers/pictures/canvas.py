"""What both pictures draw with: a figure sized in pixels, the CJK font, and the PNG it becomes.

matplotlib is imported here, inside the functions, so that importing handlers never loads it.
Figures are made without pyplot (no global figure registry), so drawing is safe in a thread.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from .fonts import cjk_font_path

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

DPI = 100  # pixels per inch: sizes below are in pixels


def new_figure(width: float, height: float) -> Figure:
    """A white figure of `width` × `height` pixels."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white")


def font(size: float) -> FontProperties:
    """The CJK font at `size` pixels."""
    from matplotlib.font_manager import FontProperties

    return FontProperties(fname=cjk_font_path(), size=size * 72 / DPI)


def png_bytes(figure: Figure) -> bytes:
    """The figure as a PNG, without the metadata that would change from one drawing to the next."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor=figure.get_facecolor(), metadata={"Software": None})
    return buffer.getvalue()


def text_width(text: str, size: float) -> float:
    """About how many pixels `text` takes at `size`: a CJK character is a square, Latin about half
    of one. Close enough to size a column; measuring with a renderer would cost a draw."""
    wide = sum(1 for char in text if ord(char) >= 0x2E80)
    return (wide + 0.62 * (len(text) - wide)) * size
