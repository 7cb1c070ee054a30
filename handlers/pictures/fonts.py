"""The font every picture is drawn with: Noto Sans CJK SC from the `mplfonts` package, by path.

By path rather than by name: matplotlib's font search looks at the system's fonts, and a server
with none (a fresh container) would draw every Chinese character as an empty box. The package is
located through its installed metadata, without importing it (its `__init__` loads matplotlib
and more).
"""

from __future__ import annotations

import importlib.metadata
from functools import cache
from pathlib import Path

FONT_PACKAGE = "mplfonts"
FONT_FILE = "mplfonts/fonts/NotoSansCJKsc-Regular.otf"


class PictureError(Exception):
    """A picture that cannot be drawn on this machine; the message says what to install."""


@cache
def cjk_font_path() -> Path:
    """The CJK font file's path; PictureError when the package (or its font) is not installed."""
    try:
        distribution = importlib.metadata.distribution(FONT_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise PictureError(
            f"the Chinese font for pictures comes from the Python package {FONT_PACKAGE}, "
            f"which is not installed: pip install {FONT_PACKAGE}"
        ) from None
    path = Path(str(distribution.locate_file(FONT_FILE)))
    if not path.is_file():
        raise PictureError(
            f"{FONT_PACKAGE} is installed but has no {FONT_FILE}: pip install --force-reinstall {FONT_PACKAGE}"
        )
    return path
