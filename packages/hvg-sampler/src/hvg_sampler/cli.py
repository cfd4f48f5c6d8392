"""``hvg-sampler`` command line: cost planning and fusion-weight inspection."""

from __future__ import annotations

import json

import click
from hvg_core.cli_utils import config_option, hvg_group, run_group
from hvg_core.errors import InputError

#: Most denoiser windows per sampling step ``plan`` lays out. The check uses an upper bound
#: computed from the options before any planning (see :func:`window_bound`); a plan this size
#: takes about a minute and a few hundred MB, so larger requests are refused with exit code 2
#: instead of running for many minutes.
MAX_PLAN_WINDOWS_PER_STEP = 200_000


def _windows_along(length: int, window: int, overlap: int) -> int:
    """Windows of ``window`` items with ``overlap`` that cover ``length`` items (at most)."""
    if length <= window:
        return 1
    stride = max(1, window - min(overlap, window - 1))
    return -(-(length - window) // stride) + 1


def window_bound(
    frames: int,
    views: int,
    frame_window: int,
    frame_overlap: int,
    view_window: int,
    view_overlap: int,
) -> int:
    """Upper bound of the windows per step, from the options alone (no planning).

    Temporal windows × all views plus view windows × all frames: each window holds at least
    one view and one frame, and a cyclic view plan may add one wrap-around window.
    """
    temporal = _windows_along(frames, frame_window, frame_overlap) * views
    spatial = min(views, _windows_along(views, view_window, view_overlap) + 1) * frames
    return temporal + spatial


def _registered(kind: str) -> list[str]:
    from hvg_core.registry import get_registry

    return get_registry().names(kind)


class _RegistryChoice(click.ParamType):
    """A choice among registered names, resolved when the command runs (not at import)."""

    name = "name"

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def convert(self, value, param, ctx):
        names = _registered(self.kind)
        if value not in names:
            self.fail(f"{value!r} is not a registered {self.kind}; choose from {', '.join(names)}")
        return value

    def get_metavar(self, param, ctx=None):
        return f"[{'|'.join(_registered(self.kind))}]"


@hvg_group(package="hvg-sampler")
def cli() -> None:
    """Windowed spatio-temporal sampling: plan costs, inspect fusion weights."""


@cli.command()
@config_option
@click.option(
    "--sampler",
    "sampler",
    type=_RegistryChoice("samplers"),
    default="hvg",
    show_default=True,
    help="Registered sampler.",
)
@click.option("--frames", type=click.IntRange(min=1), required=True, help="Frames T.")
@click.option("--views", type=click.IntRange(min=1), required=True, help="Views V.")
@click.option("--frame-window", type=click.IntRange(min=1), default=24, show_default=True)
@click.option("--frame-overlap", type=click.IntRange(min=0), default=8, show_default=True)
@click.option("--view-window", type=click.IntRange(min=1), default=6, show_default=True)
@click.option("--view-overlap", type=click.IntRange(min=0), default=2, show_default=True)
@click.option(
    "--fusion-weight",
    type=_RegistryChoice("fusion_weights"),
    default=None,
    help="Registered fusion weight (default: the sampler's).",
)
@click.option(
    "--view-planner",
    type=_RegistryChoice("window_planners"),
    default=None,
    help="Planner for views (default: the sampler's, cyclic for a 360° orbit).",
)
@click.option("--steps", type=click.IntRange(min=1), default=25, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=1, show_default=True)
@click.option(
    "--max-images-per-call",
    type=click.IntRange(min=1),
    default=None,
    help="Pack equal-shape windows into calls up to this many images.",
)
@click.option(
    "--max-views-per-time-window",
    type=click.IntRange(min=1),
    default=None,
    help="Split each temporal window's views into groups of at most this many.",
)
@click.option(
    "--max-frames-per-view-window",
    type=click.IntRange(min=1),
    default=None,
    help="Split each view window's frames into chunks of at most this many.",
)
@click.option(
    "--max-images-per-window",
    type=click.IntRange(min=0),
    default=72,
    show_default=True,
    help="Training budget: images (views × frames) per window; 0 = unlimited.",
)
@click.option(
    "--max-frames-per-window",
    type=click.IntRange(min=0),
    default=24,
    show_default=True,
    help="Training budget: frames per window; 0 = unlimited.",
)
@click.option(
    "--cfg/--no-cfg",
    default=False,
    show_default=True,
    help="Count classifier-free guidance (two branches).",
)
@click.option(
    "--cfg-batch/--cfg-sequential",
    default=True,
    show_default=True,
    help="Both CFG branches in one call, or one call each.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option(
    "--png",
    type=click.Path(dir_okay=False),
    default=None,
    help="Draw the window layout to this PNG file.",
)
def plan(
    sampler,
    frames,
    views,
    frame_window,
    frame_overlap,
    view_window,
    view_overlap,
    fusion_weight,
    view_planner,
    steps,
    batch_size,
    max_images_per_call,
    max_views_per_time_window,
    max_frames_per_view_window,
    max_images_per_window,
    max_frames_per_window,
    cfg,
    cfg_batch,
    as_json,
    png,
) -> None:
    """Dry run: windows, denoiser calls per step, image evaluations and overhead.

    The overhead is the image evaluations relative to one unwindowed pass over all T·V images
    per step. Counts come from the same planning code the sampler runs. Plans that may need
    more than 200 000 windows per step are refused up front (exit code 2).
    """
    bound = window_bound(frames, views, frame_window, frame_overlap, view_window, view_overlap)
    if bound > MAX_PLAN_WINDOWS_PER_STEP:
        raise InputError(
            f"T={frames} × V={views} with a {frame_window}-frame window may need up to {bound} "
            f"windows per step, above the {MAX_PLAN_WINDOWS_PER_STEP} a plan may hold "
            "(hvg_sampler.cli.MAX_PLAN_WINDOWS_PER_STEP); plan fewer frames or larger windows",
            field="--frames",
        )
    from hvg_sampler.build import build_sampler

    options = {
        "frame_window": frame_window,
        "frame_overlap": frame_overlap,
        "view_window": view_window,
        "view_overlap": view_overlap,
        "num_steps": steps,
        "cfg_batch": cfg_batch,
        "max_images_per_call": max_images_per_call,
        "max_guidance_scale": 3.0 if cfg else 1.0,
        "max_views_per_time_window": max_views_per_time_window,
        "max_frames_per_view_window": max_frames_per_view_window,
        "max_images_per_window": max_images_per_window or None,
        "max_frames_per_window": max_frames_per_window or None,
    }
    if fusion_weight is not None:
        options["fusion_weight"] = fusion_weight
    if view_planner is not None:
        options["view_planner"] = view_planner
    chosen = build_sampler(sampler, **options)
    report = chosen.cost(frames, views, batch_size=batch_size, cfg=cfg, num_steps=steps)
    data = report.to_json()
    if png is not None:
        from hvg_sampler.render import draw_layout

        data["png"] = str(draw_layout(report, png))
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"sampler {report.sampler}: T={frames} V={views} steps={steps} cfg={cfg}")
    for window, steps_used in report.windows:
        when = "" if len(steps_used) == steps else f"  steps {list(steps_used)}"
        click.echo(
            f"  {window.pass_name:5s} frames {_span(window.frames)} views {_span(window.views)}"
            f"{when}"
        )
    click.echo(f"calls per step: {data['calls_per_step']} (total {data['calls_total']})")
    click.echo(
        f"image evaluations per step: {data['image_evaluations_per_step']} "
        f"(one full pass: {data['full_pass_image_evaluations_per_step']}, "
        f"overhead {report.overhead:.3f}x)"
    )
    click.echo(
        f"largest window: {report.peak_images_per_window} images, "
        f"{report.peak_frames_per_window} frames (budget: {data['budget']['max_images_per_window']}"
        f" images, {data['budget']['max_frames_per_window']} frames; None = unlimited)"
    )
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if png is not None:
        click.echo(f"layout written to {data['png']}")


def _span(indices) -> str:
    values = list(indices)
    if values == list(range(values[0], values[0] + len(values))):
        return f"{values[0]}-{values[-1]}"
    return ",".join(str(value) for value in values)


@cli.command()
@click.argument("name", required=False, type=_RegistryChoice("fusion_weights"))
@click.option(
    "--length",
    type=click.IntRange(min=1),
    default=24,
    show_default=True,
    help="Window length to evaluate the weight at.",
)
@click.option("--overlap-before", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--overlap-after", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--sigma", type=float, default=None, help="Noise level (σ-dependent weights).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.option(
    "--png",
    type=click.Path(dir_okay=False),
    default=None,
    help="Plot the profile to this PNG file.",
)
def weights(name, length, overlap_before, overlap_after, sigma, as_json, png) -> None:
    """List registered fusion weights, or print one weight's profile for a window length."""
    from hvg_core.registry import get_registry

    registry = get_registry()
    if name is None:
        entries = registry.entries("fusion_weights")
        if as_json:
            click.echo(
                json.dumps(
                    [
                        {
                            "name": e.name,
                            "description": e.description,
                            "distribution": e.distribution,
                        }
                        for e in entries
                    ],
                    indent=2,
                )
            )
            return
        for entry in entries:
            click.echo(f"{entry.name:16s} {entry.description}  [{entry.distribution}]")
        return
    from hvg_sampler.weights._evaluate import evaluate_weights

    function = registry.load("fusion_weights", name)
    values = evaluate_weights(
        function,
        length,
        overlap_before=overlap_before,
        overlap_after=overlap_after,
        sigma=sigma,
        name=f"fusion weight {name!r}",
    ).tolist()
    if png is not None:
        from hvg_sampler.render import draw_weights

        draw_weights(values, png, title=f"{name}, length {length}")
    if as_json:
        click.echo(json.dumps({"name": name, "length": length, "weights": values}))
    else:
        click.echo(" ".join(f"{value:.6g}" for value in values))


def main() -> None:
    """Console-script entry point of ``hvg-sampler``."""
    run_group(cli, plugin_group="hvg-sampler")
