"""Helpers for plugin authors' tests: isolated registries and a plugin contract check.

Example (in a plugin's test-suite)::

    import my_hvg_plugin
    from hvg_core.testing import check_plugin

    def test_plugin_contract():
        entries = check_plugin(my_hvg_plugin)
        assert {e.name for e in entries} == {"my-dataset", "my-metric"}
"""

from __future__ import annotations

from hvg_core.registry import Entry, Registry, make_plugin_manager


def make_registry(*plugins: object, load_entry_points: bool = False) -> Registry:
    """A registry holding only ``plugins`` (plus installed ones if ``load_entry_points``).

    Args:
        *plugins: Modules or objects with ``@hookimpl`` functions.
        load_entry_points: Also load the installed ``hvg`` entry points.
    """
    manager = make_plugin_manager(load_entry_points=load_entry_points)
    for index, plugin in enumerate(plugins):
        manager.register(plugin, name=getattr(plugin, "__name__", f"plugin-{index}"))
    manager.check_pending()
    return Registry(manager)


def check_plugin(plugin: object) -> list[Entry]:
    """Check that a plugin's hooks are valid and every registered part can be imported.

    Verifies: each ``@hookimpl`` names a real hook (pluggy validation); names are valid and
    unique; every lazy ``"module:attribute"`` reference resolves; every description is a
    non-empty single line; no registration repeats a fact the part states itself (its ``name``,
    ``description`` or another class attribute: one source per fact).

    Returns:
        The plugin's entries.

    Raises:
        AssertionError: With a message naming the offending part.
        hvg_core.errors.RegistryError: For duplicate or invalid names.
    """
    alone = make_registry(plugin)
    entries = alone.entries()
    assert entries, f"plugin {plugin!r} registers no part"
    for entry in entries:
        entry.load()
        assert not entry.repeated, (
            f"{entry.kind} {entry.name!r}: the registration repeats {', '.join(entry.repeated)}, "
            "which the part states itself; register the part alone (one source per fact)"
        )
        assert entry.description.strip(), f"{entry.kind} {entry.name!r} has no description"
        assert "\n" not in entry.description.strip(), (
            f"{entry.kind} {entry.name!r}: the description must be one line"
        )
    return entries
