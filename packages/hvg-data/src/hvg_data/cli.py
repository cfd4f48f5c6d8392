"""``hvg-data`` command line."""

from __future__ import annotations

from hvg_core.cli_utils import hvg_group, run_group


@hvg_group(package="hvg-data")
def cli() -> None:
    """HVG data."""


def main() -> None:
    """Console-script entry point of ``hvg-data``."""
    run_group(cli, plugin_group="hvg-data")
