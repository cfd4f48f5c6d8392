"""``hvg-eval`` command line.

Heavy modules (torch, h5py, av) are imported inside the commands, so ``hvg-eval --help`` stays
instant; metric names come from the registry, so a metric registered by a third-party plugin
works with ``hvg-eval run --metric NAME`` like the built-ins.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from hvg_core.cli_utils import config_option, hvg_group, progress, run_group

from hvg_eval.protocols import PROTOCOLS


@hvg_group(package="hvg-eval")
def cli() -> None:
    """Evaluate generated human videos: FID, SSIM, PSNR, LPIPS, L1, FID-VID, FVD.

    Numbers follow the field's reference implementations under a named protocol (default
    `disco`, the paper's tables). Weight files are never downloaded: see `hvg-eval weights`.
    """


def _evaluation_options(function: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--real", required=True, type=click.Path(exists=True, path_type=Path),
                     help="Ground truth: frame folder(s), MP4/GIF videos or HDF5 shards."),
        click.option("--fake", required=True, type=click.Path(exists=True, path_type=Path),
                     help="Generated videos in the same layout (paired by name)."),
        click.option("--protocol", type=click.Choice(sorted(PROTOCOLS)), default="disco",
                     show_default=True, help="Set of conventions (disco = the paper's tables)."),
        click.option("--psnr-variant", type=click.Choice(["disco", "skimage", "legacy-uint8"]),
                     help="Override the protocol's PSNR variant (legacy-uint8 = DisCo's old, "
                     "buggy uint8 wrap-around, only to reproduce old tables)."),
        click.option("--lpips-input", type=click.Choice(["disco01", "correct"]),
                     help="Override: feed LPIPS [0, 1] (DisCo) or [-1, 1] (correct)."),
        click.option("--l1", "l1_variant", type=click.Choice(["disco", "mae"]),
                     help="Override: L1 = MAE/(H·W) on 0-255 (disco) or MAE on [0, 1]."),
        click.option("--video-clips", type=click.Choice(["whole-video", "16f-stride1"]),
                     help="Override FVD/FID-VID clip formation: whole videos (DisCo's video "
                     "path) or every 16-frame window (DisCo's frame-folder path)."),
        click.option("--weights-dir", type=click.Path(file_okay=False, path_type=Path),
                     help="Look for weight files here first."),
        click.option("--allow-unverified-weights", is_flag=True,
                     help="Use weight files whose checksum does not match (recorded)."),
        click.option("--device", default="cpu", show_default=True, help="Torch device."),
        click.option("--compile", "compile_kernels", is_flag=True,
                     help="torch.compile the per-frame SSIM/PSNR/L1 kernels (for GPUs; on "
                     "the CPU the default compiled loops are faster; the first call compiles "
                     "for up to a minute)."),
        click.option("--threads", type=click.IntRange(min=1),
                     help="Torch CPU threads (1 is fastest on a shared, busy machine)."),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON object."),
        click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
                     help="Also write the JSON result to this file."),
        click.option("--plot", type=click.Path(dir_okay=False, path_type=Path),
                     help="Draw per-view and per-frame breakdowns to this image file."),
    ]  # fmt: skip
    for option in reversed(options):
        function = option(function)
    return config_option(function)


def _execute(metric_names: list[str], single: bool, skip_missing: bool, **options: Any) -> None:
    from hvg_eval.evaluate import ensure_known, evaluate
    from hvg_eval.protocols import get_protocol
    from hvg_eval.report import dumps, plot, single_metric_json, table

    ensure_known(metric_names)
    if options["threads"] is not None:
        import torch

        torch.set_num_threads(options["threads"])
    protocol = get_protocol(options["protocol"]).with_overrides(
        psnr_variant=options["psnr_variant"],
        lpips_input=options["lpips_input"],
        l1_variant=options["l1_variant"],
        fvd_clip=options["video_clips"],
        fid_vid_clip=None if options["video_clips"] in (None, "whole-video") else "16f-stride1",
    )
    if protocol.psnr_variant == "legacy-uint8":
        click.secho(
            "warning: --psnr-variant legacy-uint8 reproduces DisCo's pre-2024 uint8 overflow "
            "bug (PSNR never below 24.07 dB); do not use it for new results",
            err=True,
            fg="yellow",
        )
    document = evaluate(
        metric_names,
        options["real"],
        options["fake"],
        protocol=protocol,
        weights_dir=options["weights_dir"],
        device=options["device"],
        allow_unverified_weights=options["allow_unverified_weights"],
        skip_missing=skip_missing,
        per_view=options["plot"] is not None,
        compile_kernels=options["compile_kernels"],
        progress=progress,
    )
    payload = single_metric_json(document, metric_names[0]) if single else document
    if options["output"] is not None:
        import os

        target = options["output"]
        temporary = target.with_name(f".{target.name}.tmp{os.getpid()}")
        temporary.write_text(dumps(payload) + "\n")
        os.replace(temporary, target)
    if options["plot"] is not None:
        plot(document, options["plot"])
    if options["as_json"]:
        click.echo(dumps(payload))
    else:
        click.echo(table(document, method=Path(options["fake"]).name))


def _make_metric_command(name: str, summary: str) -> click.Command:
    @_evaluation_options
    def command(**options: Any) -> None:
        _execute([name], True, False, **options)

    command.__doc__ = summary
    return click.command(name=name, help=summary)(command)


for _name, _summary in (
    ("fid", "FID over frames (pytorch-fid under disco, clean-fid under clean/stylegan-v)."),
    ("fvd", "FVD: Fréchet distance of I3D logits per video."),
    ("fid-vid", "FID-VID: Fréchet distance of 3-D ResNet-50 features per video."),
    ("lpips", "LPIPS-VGG v0.1 per frame (DisCo feeds [0, 1])."),
    ("ssim", "SSIM per frame on OpenCV grey, skimage conventions."),
    ("psnr", "PSNR per frame on 0-255 values."),
    ("l1", "L1 per frame (DisCo: MAE on 0-255 divided by H·W)."),
):
    cli.add_command(_make_metric_command(_name, _summary))


@cli.command(name="all")
@_evaluation_options
@click.option("--skip-missing", is_flag=True,
              help="Skip (and report) metrics whose weight files are missing instead of failing.")  # fmt: skip
def all_metrics(skip_missing: bool, **options: Any) -> None:
    """All seven metrics of the paper's tables in one pass over the videos."""
    from hvg_eval.evaluate import TABLE_ORDER

    _execute(list(TABLE_ORDER), False, skip_missing, **options)


@cli.command(name="run")
@click.option("--metric", "metric_names", multiple=True, required=True,
              help="Registered metric name (repeatable); see `hvg-eval list`.")  # fmt: skip
@_evaluation_options
@click.option("--skip-missing", is_flag=True, help="Skip metrics whose weight files are missing.")
def run_metrics(metric_names: tuple[str, ...], skip_missing: bool, **options: Any) -> None:
    """Any registered metric(s), built-in or from a plugin."""
    _execute(list(metric_names), len(metric_names) == 1, skip_missing, **options)


@cli.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_metrics(as_json: bool) -> None:
    """Registered metrics (built-in and plugins) and the protocols."""
    import json

    from hvg_core.registry import get_registry

    rows = [
        {
            "name": entry.name,
            "description": entry.description,
            "higher_is_better": entry.metadata.get("higher_is_better"),
            "requires_weights": entry.metadata.get("requires_weights", []),
            "provider": f"{entry.distribution} {entry.version}",
        }
        for entry in get_registry().entries("metrics")
    ]
    if as_json:
        click.echo(json.dumps({"metrics": rows, "protocols": sorted(PROTOCOLS)}, indent=2))
        return
    for row in rows:
        direction = {True: "↑", False: "↓"}.get(row["higher_is_better"], "?")
        weights = ", ".join(row["requires_weights"]) or "no weights"
        click.echo(
            f"{row['name']:<10} {direction} {row['description']}  [{weights}; {row['provider']}]"
        )
    click.echo(f"protocols: {', '.join(sorted(PROTOCOLS))}")


@cli.group()
def weights() -> None:
    """Weight files: status, checksums and where they are looked for (never downloaded)."""


@weights.command(name="list")
@click.option("--weights-dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def weights_list(weights_dir: Path | None, as_json: bool) -> None:
    """Every known weight file, whether it was found and where."""
    import json

    from hvg_eval.weights.registry import WEIGHT_FILES, find_weight_file

    rows = []
    for key, entry in WEIGHT_FILES.items():
        path, _ = find_weight_file(key, weights_dir)
        rows.append(
            {
                "key": key,
                "filename": entry.filename,
                "needed_for": entry.needed_for,
                "found": str(path) if path else None,
                "digest": f"{entry.digest_kind} {entry.digest}".strip(),
                "size": entry.approx_size,
                "sources": list(entry.sources),
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        status = row["found"] or "MISSING"
        click.echo(f"{row['key']:<17} {row['filename']:<40} {row['needed_for']:<32} {status}")


@weights.command(name="verify")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--weights-dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--fast",
    is_flag=True,
    help="Trust digests cached by path, size and mtime instead of hashing every file.",
)
def weights_verify(paths: tuple[Path, ...], weights_dir: Path | None, fast: bool) -> None:
    """Check digests of the given files (or of every file found); exit 1 on a mismatch.

    Every file is hashed (use --fast to trust the cache). A file with no published digest
    must match its state-dict manifest and hold non-degenerate values.
    """
    from hvg_core.errors import HVGError, InputError

    from hvg_eval.weights.registry import WEIGHT_FILES, find_weight_file, verify_file

    targets: list[tuple[str, Path]] = []
    if paths:
        by_name = {
            name: key
            for key, entry in WEIGHT_FILES.items()
            for name in (entry.filename, *entry.aliases)
        }
        for path in paths:
            if path.name not in by_name:
                raise InputError(
                    "not a known weight file name; known: " + ", ".join(sorted(by_name)), path=path
                )
            targets.append((by_name[path.name], path))
    else:
        for key in WEIGHT_FILES:
            found, _ = find_weight_file(key, weights_dir)
            if found is not None:
                targets.append((key, found))
    if not targets:
        click.echo("no weight files found; run `hvg-eval weights where` to see where to put them")
        return
    failures: list[str] = []
    for key, path in targets:
        result = verify_file(key, path, fast=fast)
        status = "OK" if result.ok else "MISMATCH"
        click.echo(f"{status:<8} {key:<17} {path}  sha256 {result.sha256}  ({result.checked})")
        if not result.ok:
            why = (
                result.checked
                if result.checked.startswith("no published digest")
                else f"does not match its published checksum ({result.checked})"
            )
            failures.append(f"{path.name}: {why}")
    if failures:
        raise HVGError(
            f"{len(failures)} weight file(s) failed verification: " + "; ".join(failures)
        )


@weights.command(name="where")
@click.option("--weights-dir", type=click.Path(file_okay=False, path_type=Path))
def weights_where(weights_dir: Path | None) -> None:
    """The directories searched, in order."""
    from hvg_eval.weights.registry import search_directories

    for label, directory in search_directories(weights_dir):
        state = "exists" if directory.is_dir() else "absent"
        click.echo(f"{label:<16} {directory}  ({state})")


def main() -> None:
    """Console-script entry point of ``hvg-eval``."""
    run_group(cli, plugin_group="hvg-eval")
