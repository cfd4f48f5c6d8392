"""A command for the umbrella ``hvg`` console script."""

from __future__ import annotations

import click


@click.command()
@click.argument("who", default="world")
def hello(who: str) -> None:
    """Print a greeting (test plugin)."""
    click.echo(f"hello, {who}, from hvg-testplugin")
