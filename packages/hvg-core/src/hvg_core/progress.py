"""HVG's one progress mechanism: a tqdm bar on a terminal, plain periodic lines elsewhere.

Every long loop of every HVG package reports through :func:`progress` (an iterable wrapper) or
:class:`ProgressBar` (``update(n)`` by hand), with a name that says what is running
(``"train"``, ``"render synthetic"``, ``"denoising (hvg sampler)"``)::

    from hvg_core.progress import progress

    for step in progress(range(400), desc="train", unit="step"):
        ...

On a terminal this draws a tqdm bar on stderr. When stderr is not a terminal (a log file, a CI
job, a notebook's captured output) it prints one plain line every ``interval`` seconds instead,
``train: 120/400 steps (50 s, 2.4 steps/s)``, and a last line when the loop ends; a loop shorter
than the interval prints nothing. ``HVG_PROGRESS`` overrides the choice: ``bar`` (or ``1``),
``lines``, ``off`` (or ``0``); ``HVG_PROGRESS_INTERVAL`` sets the seconds between lines
(default 10).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, Literal, TypeVar

from hvg_core.errors import InputError

T = TypeVar("T")
Mode = Literal["bar", "lines", "off"]
MODE_ENV = "HVG_PROGRESS"
INTERVAL_ENV = "HVG_PROGRESS_INTERVAL"
DEFAULT_INTERVAL_S = 10.0
_MODE_ALIASES: dict[str, Mode] = {
    "bar": "bar",
    "1": "bar",
    "lines": "lines",
    "off": "off",
    "0": "off",
    "": "off",
}


def progress_mode(disable: bool | None = None) -> Mode:
    """How progress is shown: ``"bar"``, ``"lines"`` or ``"off"``.

    Args:
        disable: ``True`` turns progress off whatever the environment says; ``None`` or
            ``False`` leave the choice to ``HVG_PROGRESS``, then to whether stderr is a terminal.

    Raises:
        InputError: ``HVG_PROGRESS`` holds an unknown value (the message lists the valid ones).
    """
    if disable:
        return "off"
    forced = os.environ.get(MODE_ENV)
    if forced is not None:
        key = forced.strip().lower()
        if key not in _MODE_ALIASES:
            raise InputError(f"{forced!r} is not one of bar, lines, off (or 1, 0)", field=MODE_ENV)
        return _MODE_ALIASES[key]
    return "bar" if sys.stderr.isatty() else "lines"


def _interval() -> float:
    raw = os.environ.get(INTERVAL_ENV)
    if raw is None:
        return DEFAULT_INTERVAL_S
    try:
        value = float(raw)
    except ValueError as error:
        raise InputError(f"{raw!r} is not a number of seconds", field=INTERVAL_ENV) from error
    if value <= 0:
        raise InputError(f"must be positive, got {raw!r}", field=INTERVAL_ENV)
    return value


def _plural(unit: str, count: float) -> str:
    # "it" (tqdm's default unit) reads as "it/s", not "its".
    return unit if count == 1 or unit == "it" or unit.endswith("s") else unit + "s"


class ProgressBar:
    """A named progress report advanced by hand; a context manager.

    Args:
        total: Expected count (``None`` if unknown).
        desc: What is running, shown first.
        unit: What is counted (``"step"``, ``"frame"``, ``"subject"``).
        disable: ``True``: silent. ``None``/``False``: :func:`progress_mode` decides.
        interval: Seconds between plain lines (default ``HVG_PROGRESS_INTERVAL`` or 10).
    """

    def __init__(
        self,
        total: int | None = None,
        *,
        desc: str = "",
        unit: str = "it",
        disable: bool | None = None,
        interval: float | None = None,
    ) -> None:
        self.total = total
        self.desc = desc
        self.unit = unit
        self.count = 0
        self.mode = progress_mode(disable)
        self.interval = _interval() if interval is None else interval
        self._start = self._last_line = time.monotonic()
        self._printed = False
        self._bar: Any = None
        if self.mode == "bar":
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=desc, unit=unit, leave=False, file=sys.stderr)

    def update(self, n: int = 1) -> None:
        """Count ``n`` more items done."""
        self.count += n
        if self._bar is not None:
            self._bar.update(n)
        elif self.mode == "lines":
            now = time.monotonic()
            if now - self._last_line >= self.interval:
                self._line(now)

    def close(self) -> None:
        """End the report: close the bar, or print a last line if any line was printed."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.mode == "lines" and self._printed:
            self._line(time.monotonic(), done=True)
        self.mode = "off"

    def line(self) -> str:
        """The plain-line text of the current state, e.g. ``train: 120/400 steps (50 s, …)``."""
        elapsed = time.monotonic() - self._start
        return self._format(elapsed)

    def _format(self, elapsed: float, *, done: bool = False) -> str:
        counted = f"{self.count}" if self.total is None else f"{self.count}/{self.total}"
        units = _plural(self.unit, self.total if self.total is not None else self.count)
        rate = self.count / elapsed if elapsed > 0 else 0.0
        state = "done, " if done else ""
        name = f"{self.desc}: " if self.desc else ""
        return (
            f"{name}{counted} {units} ({state}{elapsed:.0f} s, "
            f"{rate:.3g} {_plural(self.unit, 2)}/s)"
        )

    def _line(self, now: float, *, done: bool = False) -> None:
        print(self._format(now - self._start, done=done), file=sys.stderr, flush=True)
        self._last_line = now
        self._printed = True

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def progress(
    iterable: Iterable[T],
    *,
    desc: str = "",
    total: int | None = None,
    unit: str = "it",
    disable: bool | None = None,
    interval: float | None = None,
) -> Iterator[T]:
    """Iterate ``iterable`` while reporting progress (see the module docstring).

    Args:
        iterable: Items to iterate.
        desc: What is running (``"train"``, ``"render synthetic"``); name it, bars are read in
            logs.
        total: Number of items when ``iterable`` has no ``len``.
        unit: What one item is.
        disable: ``True``: silent. ``None``/``False``: :func:`progress_mode` decides (bar on a
            terminal, plain lines elsewhere).
        interval: Seconds between plain lines (default ``HVG_PROGRESS_INTERVAL`` or 10).
    """
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    with ProgressBar(total, desc=desc, unit=unit, disable=disable, interval=interval) as bar:
        for item in iterable:
            yield item
            bar.update()
