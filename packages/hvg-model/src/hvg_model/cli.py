"""``hvg-model`` command line."""

from __future__ import annotations

from hvg_core.cli_utils import hvg_group, run_group


@hvg_group(package="hvg-model")
def cli() -> None:
    """HVG model."""


def main() -> None:
    """Console-script entry point of ``hvg-model``."""
    run_group(cli, plugin_group="hvg-model")
