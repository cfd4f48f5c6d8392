"""``hvg-bonemap``: render bone maps of built-in motions or SMPL-X motion files.

Standalone (no hvg_core). Heavy imports (torch, PyAV, pillow) happen inside commands, so
``--help`` is instant. Expected failures exit with code 2 (bad input, missing files) or 1
(runtime failure) and a one-paragraph message; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from hvg_bonemap import __version__


class _PartChoice(click.Choice):
    """A ``click.Choice`` of registered part names (``hvg`` registry, else the built-ins)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__([], case_sensitive=True)

    @property  # type: ignore[override]
    def choices(self) -> tuple[str, ...]:
        """The names registered under ``kind``, read when first needed (no torch import)."""
        from hvg_bonemap._parts import part_names

        return tuple(part_names(self.kind))

    @choices.setter
    def choices(self, value: Any) -> None:  # click assigns in __init__
        pass


class InputFailure(click.ClickException):
    """Bad input or a missing resource (exit code 2)."""

    exit_code = 2


def _expected_failures(command: Callable[..., Any]) -> Callable[..., Any]:
    """Maps expected exceptions to click exceptions; re-raises everything under ``--debug``."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = bool((click.get_current_context().obj or {}).get("debug"))
        try:
            return command(*args, **kwargs)
        except click.ClickException:
            raise
        except (ValueError, FileNotFoundError, ImportError) as error:
            if debug:
                raise
            raise InputFailure(str(error)) from error
        except Exception as error:
            if debug:
                raise
            raise click.ClickException(
                f"{type(error).__name__}: {error} (rerun with --debug for the traceback)"
            ) from error

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hvg-bonemap")
@click.option("--debug", is_flag=True, help="Show tracebacks of failures.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Dual-dimensional bone maps (depth + normal) of SMPL-X bodies."""
    ctx.obj = {"debug": debug}


@cli.command()
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder.",
)
@click.option(
    "--motion",
    default="walk",
    show_default=True,
    help="Built-in motion (walk, turn, arm_raise) or an .npz of SMPL-X parameters.",
)
@click.option(
    "--frames", type=click.IntRange(min=1), default=None, help="Frames (built-in: 24; file: all)."
)
@click.option("--fps", type=click.FloatRange(min=1e-3), default=24.0, show_default=True)
@click.option(
    "--views", type=click.IntRange(min=1), default=8, show_default=True, help="Orbit views."
)
@click.option(
    "--size",
    type=click.IntRange(min=8, max=4096),
    default=256,
    show_default=True,
    help="Image size (square).",
)
@click.option(
    "--elevation", type=float, default=10.0, show_default=True, help="Orbit elevation (degrees)."
)
@click.option(
    "--distance",
    type=click.FloatRange(min=1e-3),
    default=3.0,
    show_default=True,
    help="Camera distance (m).",
)
@click.option(
    "--fov",
    type=click.FloatRange(1.0, 179.0),
    default=40.0,
    show_default=True,
    help="Vertical field of view.",
)
@click.option(
    "--bones", type=click.Choice(["paper", "anatomical"]), default="paper", show_default=True
)
@click.option("--radii", type=click.Choice(["thin", "full"]), default="thin", show_default=True)
@click.option(
    "--body",
    type=_PartChoice("body_models"),
    default="anthropometric",
    show_default=True,
    help="Body model (registry kind body_models; `hvg plugins` lists plug-in ones).",
)
@click.option(
    "--backend",
    type=_PartChoice("bonemap_backends"),
    default="analytic",
    show_default=True,
    help="Bone-map renderer (registry kind bonemap_backends).",
)
@click.option(
    "--model-path",
    type=click.Path(path_type=Path),
    default=None,
    help="SMPL-X model file/folder (--body smplx).",
)
@click.option(
    "--gender",
    type=click.Choice(["neutral", "male", "female"]),
    default="neutral",
    show_default=True,
)
@click.option(
    "--align/--no-align",
    default=True,
    show_default=True,
    help="Pelvis-centred view alignment (§3.2).",
)
@click.option(
    "--grid-frames",
    type=click.IntRange(min=1),
    default=6,
    show_default=True,
    help="Frames in the PNG grid.",
)
@click.option("--device", default="cpu", show_default=True, help="Torch device.")
@_expected_failures
def render(
    out_dir: Path,
    motion: str,
    frames: int | None,
    fps: float,
    views: int,
    size: int,
    elevation: float,
    distance: float,
    fov: float,
    bones: str,
    radii: str,
    body: str,
    backend: str,
    model_path: Path | None,
    gender: str,
    align: bool,
    grid_frames: int,
    device: str,
) -> None:
    """Render depth/normal bone maps: writes bonemap_grid.png, bonemap.mp4 and bonemap.npz."""
    # Short bursts of tensor work on a shared machine: waiting OpenMP threads should sleep, not
    # spin (set before torch is imported; a user's own setting wins).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from hvg_bonemap._render_job import RenderJob, run_render_job

    job = RenderJob(
        out_dir=out_dir, motion=motion, frames=frames, fps=fps, views=views, size=size, elevation=elevation,
        distance=distance, fov=fov, bones=bones, radii=radii, body=body, backend=backend, model_path=model_path,
        gender=gender, align=align, grid_frames=grid_frames, device=device,
    )  # fmt: skip
    written = run_render_job(job, progress=_progress)
    for path in written:
        click.echo(str(path))


class _Progress:
    """HVG's progress convention without hvg_core (this package stands alone).

    A tqdm bar on a terminal; elsewhere one plain line every ``HVG_PROGRESS_INTERVAL`` seconds
    (default 10) and a last one, nothing for shorter work. ``HVG_PROGRESS`` = bar/lines/off
    overrides, as in ``hvg_core.progress``.
    """

    def __init__(self, total: int, label: str, unit: str = "frame") -> None:
        self.total, self.label, self.unit, self.count = total, label, unit, 0
        forced = os.environ.get("HVG_PROGRESS", "").strip().lower()
        modes = {"1": "bar", "bar": "bar", "lines": "lines", "0": "off", "off": "off"}
        if forced and forced not in modes:
            raise click.UsageError(f"HVG_PROGRESS={forced!r} is not one of bar, lines, off")
        self.mode = modes.get(forced) or ("bar" if sys.stderr.isatty() else "lines")
        self.interval = float(os.environ.get("HVG_PROGRESS_INTERVAL", "10"))
        self.start = self.last = time.monotonic()
        self.printed = False
        self.bar: Any = None
        if self.mode == "bar":
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=label, unit=unit, leave=False, file=sys.stderr)

    def __enter__(self) -> _Progress:
        return self

    def update(self, n: int) -> None:
        self.count += n
        now = time.monotonic()
        if self.bar is not None:
            self.bar.update(n)
        elif self.mode == "lines" and now - self.last >= self.interval:
            self._line(now, "")

    def _line(self, now: float, state: str) -> None:
        elapsed = now - self.start
        click.echo(
            f"{self.label}: {self.count}/{self.total} {self.unit}s ({state}{elapsed:.0f} s)",
            err=True,
        )
        self.last, self.printed = now, True

    def __exit__(self, *exc_info: object) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.printed:
            self._line(time.monotonic(), "done, ")


def _progress(total: int, label: str) -> _Progress:
    return _Progress(total, f"{label} bone maps")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv, prog_name="hvg-bonemap")
