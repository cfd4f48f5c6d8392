"""``hvg-data list --root DIR``: which datasets' folder layouts a folder holds.

Every registered adapter that needs a root probes the folder (no subject is loaded). Found
datasets are listed with their subject count and the folders they would read; when none is found
every adapter's expected layout is printed and the command exits 2.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import click
from hvg_core.errors import InputError

from hvg_data.adapter import LayoutReport


def layout_reports(root: str | PathLike[str]) -> list[LayoutReport]:
    """Probe ``root`` with every registered dataset adapter that reads files.

    Raises:
        InputError: ``root`` is not a folder.
    """
    from hvg_core.registry import get_registry

    folder = Path(root)
    if not folder.is_dir():
        raise InputError("not a folder", path=folder, field="--root")
    registry = get_registry()
    reports = []
    for entry in registry.entries("datasets"):
        adapter_class = entry.load()
        if not getattr(adapter_class, "needs_root", True):
            continue
        reports.append(adapter_class.probe(folder))
    return reports


def print_layout_reports(root: str | PathLike[str]) -> None:
    """Print what :func:`layout_reports` found.

    Raises:
        InputError: No dataset layout was found (after printing what each adapter expects).
    """
    reports = layout_reports(root)
    found = [report for report in reports if report.subjects]
    missing = [report for report in reports if not report.subjects]
    if found:
        click.echo(f"found in {root}:")
        for report in found:
            click.echo(f"  {report.dataset}: {report.subjects} subject(s)")
            for role, path in report.found.items():
                click.echo(f"    {role}: {path}")
            if report.problem:
                click.echo(f"    problem: {report.problem}")
    if missing:
        click.echo("not found:" if found else f"no dataset layout found in {root}; expected:")
        for report in missing:
            click.echo(f"  {report.dataset}: {report.problem or 'no subjects'}")
            for line in report.expected:
                click.echo(f"    expected: {line}")
    if not found:
        raise InputError(
            "no dataset layout recognised (see the expected layouts above)",
            path=root,
            field="--root",
        )
