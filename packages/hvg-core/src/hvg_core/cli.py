"""``hvg``: the umbrella command line (plugins listing, plugin-contributed commands, the demo)."""

from __future__ import annotations

import json

import click

from hvg_core.cli_utils import hvg_group, run_group


@hvg_group(package="hvg-core")
def cli() -> None:
    """HVG: human video generation from a single image with 3-D pose and view control.

    \b
    Console scripts:
      hvg-bonemap  render bone maps (depth + normal of bone ellipsoids) for SMPL-X motions
      hvg-data     render and verify training shards from 3-D scans and multi-view captures
      hvg-sampler  plan and run windowed spatio-temporal sampling
      hvg-model    train the multi-view video model and generate videos
      hvg-eval     FID, FVD, FID-VID, LPIPS, SSIM, PSNR and L1
    """


@cli.command()
@click.option("--kind", "kinds", multiple=True, help="Only list parts of this kind (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
def plugins(kinds: tuple[str, ...], as_json: bool) -> None:
    """List every registered part with its kind, plugin, package and version."""
    from hvg_core.registry import get_registry

    registry = get_registry()
    entries = [e for kind in (kinds or registry.kinds()) for e in registry.entries(kind)]
    if as_json:
        rows = [
            {
                "kind": e.kind,
                "name": e.name,
                "plugin": e.plugin,
                "package": e.distribution,
                "version": e.version,
                "description": e.description,
            }
            for e in entries
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    if not entries:
        click.echo("No parts registered. Is any HVG package installed?")
        return
    header = ("KIND", "NAME", "PACKAGE", "VERSION", "DESCRIPTION")
    rows_text = [(e.kind, e.name, e.distribution, e.version, e.description) for e in entries]
    widths = [max(len(r[i]) for r in [header, *rows_text]) for i in range(4)]
    for row in [header, *rows_text]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths)) + "  " + row[4])


def main() -> None:
    """Console-script entry point of ``hvg``."""
    run_group(cli, plugin_group="hvg")
