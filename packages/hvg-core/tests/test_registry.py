"""The registry: per-kind registration, lazy references, duplicates, autoload switch."""

from __future__ import annotations

import sys
import types

import pluggy
import pytest

from hvg_core import hookspecs
from hvg_core.errors import DuplicateRegistrationError, RegistryError, UnknownPartError
from hvg_core.registry import KINDS, Registry, make_plugin_manager


def make_registry(*plugins: object) -> Registry:
    manager = make_plugin_manager(load_entry_points=False)
    for index, plugin in enumerate(plugins):
        manager.register(plugin, name=f"plugin{index}")
    return Registry(manager)


def plugin_with(hook_name: str, *registrations: tuple[str, object]) -> object:
    def implementation(register):
        for name, obj in registrations:
            register(name, obj, description=f"{name} part", flavour="test")

    implementation.__name__ = hook_name
    module = types.SimpleNamespace()
    setattr(module, hook_name, hookspecs.hookimpl(implementation))
    return module


def test_every_hook_specification_is_a_registry_kind():
    hook_names = {n for n in dir(hookspecs) if n.startswith("hvg_register_")}
    assert set(KINDS.values()) == hook_names
    assert "datasets" in KINDS and "fusion_weights" in KINDS and "commands" in KINDS


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_registers_loads_and_lists(kind):
    sentinel = object()
    registry = make_registry(plugin_with(KINDS[kind], ("part-a", sentinel)))
    assert registry.names(kind) == ["part-a"]
    entry = registry.entry(kind, "part-a")
    assert entry.load() is sentinel
    assert entry.plugin == "plugin0"
    assert entry.description == "part-a part"
    assert entry.metadata == {"flavour": "test"}
    assert (kind, "part-a") in registry
    others = [k for k in KINDS if k != kind]
    assert all(registry.names(k) == [] for k in others)


def test_lazy_reference_is_imported_only_on_load():
    registry = make_registry(plugin_with("hvg_register_metrics", ("joiner", "os.path:join")))
    entry = registry.entry("metrics", "joiner")
    assert entry.is_lazy
    import os.path

    assert entry.load() is os.path.join


def test_dotted_attribute_reference():
    registry = make_registry(plugin_with("hvg_register_metrics", ("sep", "os:path.sep")))
    import os

    assert registry.load("metrics", "sep") == os.path.sep


def test_malformed_lazy_reference_names_the_plugin():
    registry = make_registry(plugin_with("hvg_register_metrics", ("bad", "no_colon_here")))
    with pytest.raises(RegistryError, match="malformed reference 'no_colon_here'"):
        registry.load("metrics", "bad")


def test_duplicate_names_are_rejected_with_both_plugins_named():
    first = plugin_with("hvg_register_datasets", ("thuman2", object()))
    second = plugin_with("hvg_register_datasets", ("thuman2", object()))
    with pytest.raises(DuplicateRegistrationError) as info:
        make_registry(first, second)
    message = str(info.value)
    assert "'thuman2'" in message and "plugin0" in message and "plugin1" in message


def test_same_name_in_different_kinds_is_allowed():
    registry = make_registry(
        plugin_with("hvg_register_datasets", ("shared", 1)),
        plugin_with("hvg_register_metrics", ("shared", 2)),
    )
    assert registry.load("datasets", "shared") == 1
    assert registry.load("metrics", "shared") == 2


@pytest.mark.parametrize("bad_name", ["", " padded", "two words", None])
def test_invalid_names_are_rejected(bad_name):
    with pytest.raises(RegistryError, match="invalid name"):
        make_registry(plugin_with("hvg_register_samplers", (bad_name, object())))


def test_unknown_part_lists_what_is_available():
    registry = make_registry(plugin_with("hvg_register_samplers", ("hvg", 1), ("view", 2)))
    with pytest.raises(UnknownPartError, match="no samplers named 'nope'; available: hvg, view"):
        registry.load("samplers", "nope")
    with pytest.raises(UnknownPartError, match="unknown registry kind 'sampler'"):
        registry.names("sampler")


def test_entries_are_sorted_by_kind_then_name():
    registry = make_registry(
        plugin_with("hvg_register_samplers", ("b", 1), ("a", 2)),
        plugin_with("hvg_register_datasets", ("z", 3)),
    )
    assert [(e.kind, e.name) for e in registry.entries()] == [
        ("datasets", "z"),
        ("samplers", "a"),
        ("samplers", "b"),
    ]


def test_hookimpl_marker_from_pluggy_directly_is_accepted():
    # hvg-bonemap registers with pluggy's marker directly so that it needs no hvg_core.
    marker = pluggy.HookimplMarker("hvg")

    class Plugin:
        @marker
        def hvg_register_pose_signals(self, register):
            register("bonemap", "pkg.mod:Signal")

    assert make_registry(Plugin()).names("pose_signals") == ["bonemap"]


def test_unknown_hook_in_a_plugin_fails_fast():
    class Plugin:
        @hookspecs.hookimpl
        def hvg_register_sampler(self, register):  # typo: no such hook
            register("x", 1)

    manager = make_plugin_manager(load_entry_points=False)
    manager.register(Plugin(), name="typo")
    with pytest.raises(pluggy.PluginValidationError):
        manager.check_pending()


def install_third_party_plugin(site, monkeypatch):
    """Make a distribution ``hvg-thirdparty`` 1.2 with an ``hvg`` entry point importable."""
    (site / "hvg_thirdparty_mod.py").write_text("# a plugin module without hooks\n")
    dist_info = site / "hvg_thirdparty-1.2.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: hvg-thirdparty\nVersion: 1.2\n"
    )
    (dist_info / "entry_points.txt").write_text("[hvg]\nthirdparty = hvg_thirdparty_mod\n")
    monkeypatch.syspath_prepend(str(site))


def test_builtin_entry_points_are_loaded_and_autoload_switch_keeps_them(tmp_path, monkeypatch):
    install_third_party_plugin(tmp_path, monkeypatch)
    manager = make_plugin_manager()
    distributions = dict(manager.hvg_distributions.values())
    assert distributions.get("hvg-thirdparty") == "1.2"
    monkeypatch.setenv("HVG_DISABLE_PLUGIN_AUTOLOAD", "1")
    manager = make_plugin_manager()
    names = {dist for dist, _ in manager.hvg_distributions.values()}
    assert "hvg-thirdparty" not in names
    assert {"hvg-bonemap", "hvg-sampler", "hvg-eval", "hvg-data"} <= names


# -- one source per fact: name, description and class facts come from the part ------------------

PARTS_SOURCE = '''
"""Parts for the registry tests."""
from facts_pkg.base import Base


class Named(Base):
    """First line of the docstring.

    More text.
    """

    name = "named-part"
    channels = 4
    devices = ("cpu",)


class Described:
    """Not the description."""

    name = "described"
    description = "Stated by the class."


def weights(length):
    """``w_k = 1`` weights of :func:`flat` style."""
    return [1] * length


class Unnamed:
    """Has no name attribute."""
'''

BASE_SOURCE = '''
class Base:
    """A base."""

    kind = "scan"
    name = ""
'''


@pytest.fixture
def facts_pkg(tmp_path, monkeypatch):
    package = tmp_path / "facts_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("raise RuntimeError('the package must not be imported')\n")
    (package / "parts.py").write_text(PARTS_SOURCE)
    (package / "base.py").write_text(BASE_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield package
    for name in [m for m in sys.modules if m.startswith("facts_pkg")]:
        del sys.modules[name]


def registering(hook_name: str, *calls: tuple[tuple, dict]) -> object:
    def implementation(register):
        for args, kwargs in calls:
            register(*args, **kwargs)

    implementation.__name__ = hook_name
    module = types.SimpleNamespace()
    setattr(module, hook_name, hookspecs.hookimpl(implementation))
    return module


def test_part_registered_alone_names_and_describes_itself_without_being_imported(facts_pkg):
    plugin = registering(
        "hvg_register_pose_signals",
        (("facts_pkg.parts:Named",), {"default": True}),
        (("facts_pkg.parts:Described",), {}),
    )
    registry = make_registry(plugin)
    assert "facts_pkg" not in sys.modules and "facts_pkg.parts" not in sys.modules
    named = registry.entry("pose_signals", "named-part")
    assert named.description == "First line of the docstring."
    # Own literal attributes, inherited ones (kind from Base), then the registration's.
    assert named.metadata == {"kind": "scan", "channels": 4, "devices": ("cpu",), "default": True}
    assert named.repeated == ()
    assert registry.entry("pose_signals", "described").description == "Stated by the class."


def test_function_is_named_by_the_registration_and_described_by_its_docstring(facts_pkg):
    plugin = registering(
        "hvg_register_fusion_weights", (("flat-ish", "facts_pkg.parts:weights"), {})
    )
    entry = make_registry(plugin).entry("fusion_weights", "flat-ish")
    assert entry.description == "w_k = 1 weights of flat style."  # reST markup unwrapped


def test_registration_repeating_a_fact_is_flagged_and_contradicting_one_is_refused(facts_pkg):
    repeating = registering(
        "hvg_register_pose_signals",
        (("named-part", "facts_pkg.parts:Named"), {"description": "again", "channels": 4}),
    )
    entry = make_registry(repeating).entry("pose_signals", "named-part")
    assert set(entry.repeated) == {"name", "description", "channels"}
    wrong_name = registering("hvg_register_pose_signals", (("other", "facts_pkg.parts:Named"), {}))
    with pytest.raises(RegistryError, match="calls itself 'named-part'"):
        make_registry(wrong_name)
    wrong_fact = registering(
        "hvg_register_pose_signals", (("facts_pkg.parts:Named",), {"channels": 3})
    )
    with pytest.raises(RegistryError, match="channels=3, but the part itself says channels=4"):
        make_registry(wrong_fact)


def test_part_without_a_name_must_be_named_by_the_registration(facts_pkg):
    plugin = registering("hvg_register_metrics", (("facts_pkg.parts:Unnamed",), {}))
    with pytest.raises(RegistryError, match="must declare `name"):
        make_registry(plugin)


def test_check_plugin_fails_on_a_repeated_fact(facts_pkg):
    from hvg_core.testing import check_plugin

    (facts_pkg / "__init__.py").write_text("")  # check_plugin imports every part

    plugin = registering(
        "hvg_register_pose_signals",
        (("facts_pkg.parts:Described",), {"description": "Stated by the class."}),
    )
    with pytest.raises(AssertionError, match="repeats description"):
        check_plugin(plugin)


def test_imported_objects_state_their_facts_too():
    class Part:
        """Docstring summary."""

        name = "object-part"
        higher_is_better = True

    registry = make_registry(registering("hvg_register_metrics", ((Part,), {})))
    entry = registry.entry("metrics", "object-part")
    assert entry.load() is Part
    assert entry.description == "Docstring summary."
    assert entry.metadata == {"higher_is_better": True}
