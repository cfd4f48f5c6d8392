"""Shared command-line helpers: error reporting, ``--config`` files, ``--debug``, progress.

Every HVG console script is built the same way::

    import click
    from hvg_core.cli_utils import hvg_group, run_group, progress

    @hvg_group(package="hvg-data")
    def cli():
        "Build HVG datasets."

    @cli.command()
    @click.option("--views", default=8)
    def render(views):
        for item in progress(range(views), desc="views"):
            ...

    def main():
        run_group(cli)

Exit codes: 0 success, 1 runtime failure (``HVGError``), 2 usage or input error (click usage
errors, ``InputError``, ``MissingResourceError``, ``RegistryError``). A failure prints one message
naming the file and field; the traceback only appears with ``--debug`` (or ``HVG_DEBUG=1``).
"""

from __future__ import annotations

import os
import sys
import tomllib
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from hvg_core.errors import HVGError, InputError
from hvg_core.progress import ProgressBar, progress

__all__ = [
    "CONTEXT_SETTINGS",
    "ProgressBar",
    "config_defaults",
    "config_option",
    "debug_option",
    "hvg_group",
    "progress",
    "quiet_dependency_progress",
    "read_config_file",
    "run_group",
    "verbose_option",
]

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
DEBUG_ENV = "HVG_DEBUG"
#: Environment that silences the progress bars of dependencies unless ``--verbose`` (a user's own
#: value wins): transformers' "Loading weights" / "Writing model shards" and Hugging Face
#: downloads; Ray Data's per-operator bars (named ``dataset_…``). HVG's own bars stay.
DEPENDENCY_QUIET_ENV = {"HF_HUB_DISABLE_PROGRESS_BARS": "1", "RAY_DATA_DISABLE_PROGRESS_BARS": "1"}
_quieted: dict[str, str] = {}


def read_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a TOML or YAML file of option defaults.

    Keys may use dashes or underscores (``frame-window`` == ``frame_window``); they are returned
    with underscores. A table/mapping named after a subcommand holds that subcommand's defaults,
    e.g. ``[render]`` (see :func:`config_defaults`).

    Raises:
        InputError: Missing file, unknown extension or a syntax error (file named).
    """
    file = Path(path)
    if not file.is_file():
        raise InputError("config file not found", path=file)
    text = file.read_text(encoding="utf-8")
    suffix = file.suffix.lower()
    try:
        if suffix == ".toml":
            data: Any = tomllib.loads(text)
        elif suffix in {".yaml", ".yml"}:
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            raise InputError("config files must end in .toml, .yaml or .yml", path=file)
    except (tomllib.TOMLDecodeError, ValueError) as error:
        if isinstance(error, InputError):
            raise
        raise InputError(f"invalid config file: {error}", path=file) from error
    except Exception as error:  # yaml.YAMLError, imported lazily
        raise InputError(f"invalid config file: {error}", path=file) from error
    if not isinstance(data, dict):
        raise InputError("the top level of a config file must be a table/mapping", path=file)
    return _normalise_keys(data)


def _normalise_keys(data: dict[str, Any]) -> dict[str, Any]:
    return {
        key.replace("-", "_"): _normalise_keys(value) if isinstance(value, dict) else value
        for key, value in data.items()
    }


_NOT_CONFIGURABLE = frozenset({"config", "help", "debug", "version"})


def _config_keys(command: click.Command) -> dict[str, tuple[click.Parameter, bool]]:
    """Map each config key of ``command`` to its parameter and whether the key negates a flag.

    Keys are the long option names with underscores (``--frame-window`` → ``frame_window``,
    ``--no-gpu`` → ``no_gpu``, negating ``--use-gpu``); arguments use their names.
    """
    keys: dict[str, tuple[click.Parameter, bool]] = {}
    for param in command.params:
        if param.name is None or param.name in _NOT_CONFIGURABLE:
            continue
        if isinstance(param, click.Option):
            for names, negated in ((param.opts, False), (param.secondary_opts, True)):
                for name in names:
                    if name.startswith("--"):
                        keys[name[2:].replace("-", "_")] = (param, negated)
        else:
            keys[param.name] = (param, False)
    return keys


def _select_command_table(ctx: click.Context, data: dict[str, Any]) -> dict[str, Any]:
    """Top-level keys plus the table named after this subcommand (which wins).

    Tables named after the other subcommands of the same group are left for them, so one file
    can hold the defaults of several subcommands (``[render]``, ``[verify]``).
    """
    name = (ctx.info_name or ctx.command.name or "").replace("-", "_")
    siblings: set[str] = set()
    if ctx.parent is not None and isinstance(ctx.parent.command, click.Group):
        siblings = {key.replace("-", "_") for key in ctx.parent.command.commands}
    own_keys = _config_keys(ctx.command)
    selected = {
        key: value
        for key, value in data.items()
        if not (isinstance(value, dict) and key in siblings and key not in own_keys)
    }
    table = data.get(name)
    if isinstance(table, dict) and name not in own_keys:
        selected.update(table)
    return selected


def config_defaults(
    ctx: click.Context, data: dict[str, Any], *, path: str | os.PathLike[str]
) -> dict[str, Any]:
    """Turn a config mapping keyed by option names into click's ``default_map`` (parameter names).

    Args:
        ctx: The context of the command the file configures.
        data: The file's mapping (keys with underscores, see :func:`read_config_file`).
        path: The file, named in errors.

    Returns:
        ``{parameter name: value}``, values already converted by the options' types.

    Raises:
        InputError: An unknown key (the message lists the valid ones) or a value the option
            rejects; the file and key are named.
    """
    keys = _config_keys(ctx.command)
    defaults: dict[str, Any] = {}
    for key, value in _select_command_table(ctx, data).items():
        if key not in keys:
            raise InputError(_unknown_key_message(key, keys), path=path, field=key)
        param, negated = keys[key]
        if negated:
            if not isinstance(value, bool):
                raise InputError(f"expected true or false, got {value!r}", path=path, field=key)
            value = not value
        if isinstance(value, dict):
            raise InputError("expected a value, got a table", path=path, field=key)
        if param.multiple and not isinstance(value, list | tuple):
            value = [value]
        try:
            param.type_cast_value(ctx, value)
        except click.BadParameter as error:
            raise InputError(error.message.rstrip("."), path=path, field=key) from error
        assert param.name is not None  # _config_keys skips unnamed parameters
        defaults[param.name] = value
    return defaults


def _unknown_key_message(key: str, keys: dict[str, tuple[click.Parameter, bool]]) -> str:
    valid = ", ".join(sorted(keys))
    for option_key, (param, _negated) in keys.items():
        if param.name == key:
            return f"unknown key; use {option_key!r} (the option's name). Valid keys: {valid}"
    return f"unknown key; valid keys: {valid}"


def _apply_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    defaults = config_defaults(ctx, read_config_file(value), path=value)
    ctx.default_map = {**(ctx.default_map or {}), **defaults}
    return value


def config_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--config FILE``: TOML/YAML defaults for the options (command line still wins).

    The file's keys are the command's long option names, with dashes or underscores
    (``frame-window: 16``, ``no-pngs: true``); an unknown key is an input error (exit 2).
    """
    return click.option(
        "--config",
        type=click.Path(dir_okay=False),
        is_eager=True,
        expose_value=False,
        callback=_apply_config,
        help="TOML or YAML file of option values, keyed by the long option names (e.g. "
        "frame-window: 16); command-line values override it.",
    )(function)


def _set_debug(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        os.environ[DEBUG_ENV] = "1"
    return value


def debug_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--debug``: show full tracebacks on failure."""
    return click.option(
        "--debug",
        is_flag=True,
        is_eager=True,
        expose_value=False,
        callback=_set_debug,
        help="Show the full traceback when something fails.",
    )(function)


def quiet_dependency_progress() -> None:
    """Silence the progress bars of dependencies (call before importing them).

    Sets :data:`DEPENDENCY_QUIET_ENV` where the user has not set those variables; ``--verbose``
    undoes it. HVG's own progress (:func:`progress`) is not affected.
    """
    for key, value in DEPENDENCY_QUIET_ENV.items():
        if key not in os.environ:
            os.environ[key] = value
            _quieted[key] = value


def _set_verbose(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        for key, value_set in list(_quieted.items()):
            if os.environ.get(key) == value_set:
                del os.environ[key]
            del _quieted[key]
    return value


def verbose_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--verbose``: also show the progress bars and messages of dependencies."""
    return click.option(
        "--verbose",
        is_flag=True,
        is_eager=True,
        expose_value=False,
        callback=_set_verbose,
        help="Also show dependencies' progress bars (transformers' weight loading, Ray Data).",
    )(function)


def hvg_group(
    *, package: str, name: str | None = None
) -> Callable[[Callable[..., Any]], click.Group]:
    """Decorator making a click group with ``-h``/``--help``, ``--version``, ``--debug``, ``--verbose``.

    Args:
        package: Distribution whose version ``--version`` prints.
        name: Command name (defaults to the function name).
    """

    def decorate(function: Callable[..., Any]) -> click.Group:
        group = click.group(name=name, context_settings=CONTEXT_SETTINGS)(
            debug_option(verbose_option(click.version_option(package_name=package)(function)))
        )
        return group

    return decorate


def add_plugin_commands(group: click.Group, group_name: str) -> None:
    """Add the commands plugins registered for ``group_name`` via ``hvg_register_commands``."""
    from hvg_core.registry import get_registry

    for entry in get_registry().entries("commands"):
        if entry.metadata.get("group", "hvg") != group_name:
            continue
        command = entry.load()
        if not isinstance(command, click.Command):
            raise HVGError(
                f"plugin {entry.plugin!r} registered command {entry.name!r}, which is not a "
                f"click.Command but {type(command).__name__}"
            )
        group.add_command(command, entry.name)


def run_group(
    group: click.Group, args: list[str] | None = None, *, plugin_group: str | None = None
) -> None:
    """Run a console script with HVG's error reporting and exit codes (never returns).

    Args:
        group: The console script's click group.
        args: Arguments (default: ``sys.argv[1:]``).
        plugin_group: Add the plugin commands registered for this group name first.
    """
    quiet_dependency_progress()
    try:
        if plugin_group is not None:
            add_plugin_commands(group, plugin_group)
        # With standalone_mode=False click *returns* the code of ``ctx.exit(n)`` instead of
        # raising, so the return value is the process's exit code (None means success).
        returned = group.main(args=args, standalone_mode=False)
    except click.exceptions.Exit as exit_:
        sys.exit(exit_.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except HVGError as error:
        _report(error, error.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception as error:
        _report(error, 1, unexpected=True)
    sys.exit(returned if isinstance(returned, int) else 0)


def _report(error: BaseException, code: int, *, unexpected: bool = False) -> None:
    if os.environ.get(DEBUG_ENV, "") not in {"", "0"}:
        traceback.print_exception(error)
    kind = f"{type(error).__name__}: " if unexpected else ""
    click.secho(f"Error: {kind}{error}", err=True, fg="red")
    if unexpected and os.environ.get(DEBUG_ENV, "") in {"", "0"}:
        click.echo("(unexpected failure; run again with --debug for the traceback)", err=True)
    sys.exit(code)
