"""``hvg-data`` command line: list datasets, render shards, verify them, preview them.

Dataset and renderer choices come from the plugin registry (lazy entries: ``--help`` imports
neither torch nor ray). Exit codes: 0 success, 1 runtime failure, 2 usage or input error,
3 (``render``) finished but some subjects failed (see ``failures.jsonl``).
"""

from __future__ import annotations

from typing import Any

import click
from hvg_core.cli_utils import config_option, hvg_group, run_group

PARTIAL_FAILURE_EXIT_CODE = 3  # same value as hvg_data.pipeline (not imported: keeps --help light)


class RegistryChoice(click.Choice):
    """A ``click.Choice`` whose choices are read from the registry when first needed."""

    def __init__(self, kind: str, extra: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self.extra = extra
        super().__init__([], case_sensitive=True)

    @property  # type: ignore[override]
    def choices(self) -> tuple[str, ...]:
        """``extra`` then the registered names of ``kind``."""
        from hvg_core.registry import get_registry

        return (*self.extra, *get_registry().names(self.kind))

    @choices.setter
    def choices(self, value: Any) -> None:  # click assigns in __init__
        pass


def _parse_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    import json

    options: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--option")
        key, value = pair.split("=", 1)
        try:
            options[key.strip().replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            options[key.strip().replace("-", "_")] = value
    return options


@hvg_group(package="hvg-data")
def cli() -> None:
    """Render and verify HVG training shards from 3-D scans and multi-view captures."""


@cli.command("list")
@click.option(
    "--root",
    type=click.Path(file_okay=False),
    default=None,
    help="Also say which datasets' folder layouts are found in this folder.",
)
def list_datasets(root: str | None) -> None:
    """List the registered datasets and scan renderers (and what --root holds)."""
    from hvg_core.registry import get_registry

    registry = get_registry()
    if root is not None:
        from hvg_data.layout_report import print_layout_reports

        print_layout_reports(root)
        return
    click.echo("datasets:")
    for entry in registry.entries("datasets"):
        kind = entry.metadata.get("kind", "")
        origin = "" if entry.distribution == "hvg-data" else f"  [{entry.distribution}]"
        click.echo(f"  {entry.name:<13} {kind:<8} {entry.description}{origin}")
    click.echo("scan renderers:")
    for entry in registry.entries("scan_renderers"):
        click.echo(f"  {entry.name:<13} {entry.description}")


@cli.command()
@config_option
@click.option(
    "--dataset",
    required=True,
    type=RegistryChoice("datasets"),
    help="Dataset adapter (see `hvg-data list`).",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False),
    default=None,
    help="Dataset folder (not needed for `synthetic`).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False),
    help="Output folder for shards, manifest.json and failures.jsonl.",
)
@click.option(
    "--smplx-model-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder with SMPLX_{NEUTRAL,MALE,FEMALE}.npz; selects --body-model smplx.",
)
@click.option(
    "--body-model",
    type=RegistryChoice("body_models", extra=("auto", "builtin")),
    default="auto",
    show_default=True,
    help="Joints from the real SMPL-X model, the built-in skeleton or a registered body model; "
    "auto = smplx when --smplx-model-dir is given, builtin for synthetic, else an error.",
)
@click.option("--views", default=8, show_default=True, help="Views per sample.")
@click.option("--size", default=576, show_default=True, help="Output image side in pixels.")
@click.option("--frames", type=int, default=None, help="Frames per sample (captures/sequences).")
@click.option("--elevation", default=0.0, show_default=True, help="Orbit elevation, degrees.")
@click.option("--distance", default=2.8, show_default=True, help="Orbit distance, metres.")
@click.option("--fov", default=40.0, show_default=True, help="Orbit vertical FOV, degrees.")
@click.option(
    "--crop-extent",
    default=2.2,
    show_default=True,
    help="Pelvis-centred crop side in metres at the pelvis depth.",
)
@click.option(
    "--scan-renderer",
    type=RegistryChoice("scan_renderers"),
    default="embree",
    show_default=True,
    help="Scan renderer.",
)
@click.option("--shard-size", default=8, show_default=True, help="Samples per shard.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Render only the first N subjects (>= 1).",
)
@click.option("--subject", "subject", multiple=True, help="Render only this subject (repeat).")
@click.option(
    "--option",
    "option",
    multiple=True,
    metavar="KEY=VALUE",
    help="Adapter option, e.g. count=4 frames=8 for synthetic (repeat).",
)
@click.option(
    "--num-workers",
    type=click.IntRange(min=1),
    default=None,
    help="Parallel Ray workers, >= 1 (default: all CPUs of this machine).",
)
@click.option("--address", default=None, help="Existing Ray cluster address (default: local).")
@click.option(
    "--executor",
    type=click.Choice(["auto", "local", "ray"]),
    default="auto",
    show_default=True,
    help="auto: Ray (workers render and write the shards) only when the time the extra workers "
    "save exceeds Ray's start-up (~30 s on 2 cores: about 60 s of serial rendering, e.g. 22 subjects at 576² "
    "x 8 views, or any --address), else this process; local / ray force one.",
)
@click.option(
    "--prune",
    is_flag=True,
    help="Allow deleting or replacing shards of an earlier run that this run's plan does not "
    "keep (another --limit, --subject list or settings).",
)
@click.option(
    "--retry-failed",
    is_flag=True,
    help="Rerun the plan recorded in OUT/manifest.json, re-rendering only its shards with failed "
    "subjects (failures are also retried by any rerun of the same command).",
)
@click.option(
    "--verbose",
    is_flag=True,
    help="Show Ray's own logs, warnings and progress bars (also on with --debug).",
)
def render(
    dataset: str,
    root: str | None,
    out: str,
    smplx_model_dir: str | None,
    body_model: str,
    views: int,
    size: int,
    frames: int | None,
    elevation: float,
    distance: float,
    fov: float,
    crop_extent: float,
    scan_renderer: str,
    shard_size: int,
    limit: int | None,
    subject: tuple[str, ...],
    option: tuple[str, ...],
    num_workers: int | None,
    address: str | None,
    executor: str,
    prune: bool,
    retry_failed: bool,
    verbose: bool,
) -> None:
    """Render a dataset into resumable HDF5 shards with bone maps.

    Complete shards of an earlier run with the same configuration are skipped; failed subjects
    are retried. Subjects with bad files are listed in failures.jsonl and the command exits with
    code 3 (1 when every subject failed). Bad arguments exit 2 before any rendering.
    """
    import os

    from hvg_core.cli_utils import DEBUG_ENV

    from hvg_data.config import RenderConfig
    from hvg_data.pipeline import PipelineOptions, run_render

    if body_model == "auto":
        body_model = _auto_body_model(dataset, smplx_model_dir)
    config = RenderConfig(
        views=views,
        size=size,
        elevation_deg=elevation,
        distance=distance,
        fov_deg=fov,
        crop_extent=crop_extent,
        frames=frames,
        body_model=body_model,
        scan_renderer=scan_renderer,
        shard_size=shard_size,
    )
    summary = run_render(
        dataset,
        root,
        out,
        config,
        adapter_options=_parse_options(option),
        limit=limit,
        subjects=list(subject) or None,
        options=PipelineOptions(
            executor=executor,
            num_workers=num_workers,
            address=address,
            smplx_model_dir=smplx_model_dir,
            verbose=verbose or os.environ.get(DEBUG_ENV, "") not in {"", "0"},
        ),
        prune=prune,
        retry_failed=retry_failed,
    )
    click.echo(
        f"{summary.samples} samples in {summary.shards_total} shards "
        f"({summary.shards_written} written, {summary.shards_skipped} already complete, "
        f"executor {summary.executor}) -> {summary.out}"
    )
    if summary.failures:
        click.echo(
            f"{len(summary.failures)} subject(s) failed; see {summary.out / 'failures.jsonl'}:",
            err=True,
        )
        for failure in summary.failures[:5]:
            click.echo(f"  {failure['subject']}: {failure['reason']}", err=True)
        click.get_current_context().exit(summary.exit_code)


def _auto_body_model(dataset: str, smplx_model_dir: str | None) -> str:
    from hvg_core.errors import MissingResourceError
    from hvg_core.registry import get_registry

    if smplx_model_dir:
        return "smplx"
    adapter_class = get_registry().load("datasets", dataset)
    if not getattr(adapter_class, "fits_need_smplx_model", True):
        return "builtin"
    raise MissingResourceError(
        f"the {dataset} fits are SMPL-X parameters: exact joints need the SMPL-X model files. "
        "Register at https://smpl-x.is.tue.mpg.de, download SMPLX_NEUTRAL/MALE/FEMALE.npz and "
        "pass their folder with --smplx-model-dir DIR, or pass --body-model builtin to use the "
        "built-in skeleton (approximate joints: no body shape, PCA hands drawn flat)."
    )


@cli.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--quick", is_flag=True, help="Check sizes and SHA-256 only, not the contents.")
def verify(directory: str, quick: bool) -> None:
    """Check every shard of DIRECTORY against its manifest.json."""
    from hvg_core.errors import HVGError

    from hvg_data.shards import verify_folder

    report = verify_folder(directory, deep=not quick)
    for problem in report.problems:
        click.echo(problem, err=True)
    if not report.ok:
        raise HVGError(f"{len(report.problems)} problem(s) in {report.shards} shard(s)")
    click.echo(f"ok: {report.shards} shards, {report.samples} samples")


@cli.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Where to write the previews (default: DIRECTORY/preview).",
)
@click.option(
    "--samples",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Samples to preview.",
)
@click.option(
    "--fps",
    type=click.IntRange(1, 240),
    default=8,
    show_default=True,
    help="Frame rate of the MP4s.",
)
def preview(directory: str, out: str | None, samples: int, fps: int) -> None:
    """Write a PNG grid and an MP4 of RGB | depth | normal per view for the first samples."""
    from pathlib import Path

    from hvg_data.preview import write_previews

    written = write_previews(
        directory, Path(out) if out else Path(directory) / "preview", samples=samples, fps=fps
    )
    for path in written:
        click.echo(str(path))


@cli.command()
@click.option(
    "--dataset",
    "datasets",
    type=(RegistryChoice("datasets"), str, click.IntRange(0)),
    multiple=True,
    required=True,
    metavar="NAME ROOT N",
    help="A dataset, its root ('-' for generated ones) and how many of its first subjects "
    "train; repeat per dataset.",
)
@click.option(
    "--test-count",
    type=click.IntRange(0),
    default=50,
    show_default=True,
    help="Test subjects drawn from the rest (the paper: 50 scans; 25 MVHumanNet videos).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the test draw.")
@click.option(
    "--identities",
    type=click.Path(dir_okay=False),
    help='JSON {"dataset/subject": "person id"} overriding the built-in identity rules.',
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default="split.json",
    show_default=True,
    help="Where to record the split (JSON).",
)
def split(
    datasets: tuple[tuple[str, str, int], ...],
    test_count: int,
    seed: int,
    identities: str | None,
    out: str,
) -> None:
    """Build subject-disjoint train/test sets as in the paper (§4) and record them.

    Trains on the first N subjects of each dataset and tests on a seeded draw of the others
    whose person never trains (identity rules: hvg_data.split).
    """
    from hvg_core.registry import get_registry

    from hvg_data.split import (
        SplitSource,
        build_split,
        default_identity,
        identity_map_function,
        read_identity_map,
        write_split,
    )

    sources = []
    for name, root, train_count in datasets:
        adapter_class = get_registry().load("datasets", name)
        adapter = adapter_class(None if root == "-" else root)
        subjects = tuple(adapter.subjects())
        sources.append(SplitSource(name, subjects, train_count, None if root == "-" else root))
    identity = (
        identity_map_function(read_identity_map(identities)) if identities else default_identity
    )
    record = build_split(sources, test_count=test_count, seed=seed, identity=identity)
    path = write_split(record, out)
    click.echo(
        f"{len(record['train'])} train, {len(record['test'])} test subjects "
        f"({record['excluded_shared_identity']} left out for sharing a person); wrote {path}"
    )


def main() -> None:
    """Console-script entry point of ``hvg-data``."""
    run_group(cli, plugin_group="hvg-data")
