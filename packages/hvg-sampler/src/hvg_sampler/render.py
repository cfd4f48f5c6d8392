"""PNG drawings: the window layout of a plan and a fusion-weight profile (pillow only)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw

from hvg_sampler.cost import CostReport

_PALETTE = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
]


def _save_atomic(image: Image.Image, path: str | os.PathLike[str]) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".png.tmp")
    os.close(handle)
    try:
        image.save(temporary, format="PNG")
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def draw_layout(report: CostReport, path: str | os.PathLike[str], *, cell: int = 10) -> Path:
    """Draw each window as a panel of the (view × frame) grid, one row of panels per pass.

    Every panel shows the full ``V × T`` grid in light grey with the window's images filled;
    panels of one pass share a colour.

    Returns:
        The written path.
    """
    passes: dict[str, list] = {}
    for window, _steps in report.windows:
        passes.setdefault(window.pass_name, []).append(window)
    columns = max(len(windows) for windows in passes.values())
    cell = max(2, min(cell, 1600 // max(columns * report.num_frames, 1)))
    panel_w, panel_h = report.num_frames * cell, report.num_views * cell
    gap, label = 6, 14
    width = gap + columns * (panel_w + gap)
    height = gap + len(passes) * (panel_h + gap + label)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for row, (name, windows) in enumerate(passes.items()):
        top = gap + row * (panel_h + gap + label)
        draw.text((gap, top), f"{name} pass: {len(windows)} windows", fill="black")
        colour = _PALETTE[row % len(_PALETTE)]
        for column, window in enumerate(windows):
            left = gap + column * (panel_w + gap)
            y0 = top + label
            draw.rectangle([left, y0, left + panel_w - 1, y0 + panel_h - 1], fill=(235, 235, 235))
            for view in window.views:
                for frame in window.frames:
                    x = left + frame * cell
                    y = y0 + view * cell
                    draw.rectangle([x, y, x + cell - 2, y + cell - 2], fill=colour)
    return _save_atomic(image, path)


def draw_weights(values: Sequence[float], path: str | os.PathLike[str], *, title: str = "") -> Path:
    """Draw a fusion-weight profile as bars scaled to the maximum.

    Returns:
        The written path.
    """
    bar, gap, height, margin = 12, 2, 160, 20
    width = margin * 2 + len(values) * (bar + gap)
    image = Image.new("RGB", (max(width, 200), height + 2 * margin), "white")
    draw = ImageDraw.Draw(image)
    top = max(values) if values else 1.0
    for index, value in enumerate(values):
        x = margin + index * (bar + gap)
        bar_height = round(height * value / top)
        draw.rectangle(
            [x, margin + height - bar_height, x + bar - 1, margin + height], fill=_PALETTE[0]
        )
    draw.text((margin, 4), title, fill="black")
    return _save_atomic(image, path)
