"""The plugin registry: entry-point discovery and a typed facade to look parts up.

Usage::

    from hvg_core.registry import get_registry

    registry = get_registry()
    registry.names("samplers")              # ["alternate", "hvg", ...]
    sampler_cls = registry.load("samplers", "hvg")
    for entry in registry.entries("metrics"):
        print(entry.name, entry.distribution, entry.version)

Built-in parts come from the workspace packages' own ``hvg`` entry points, exactly like
third-party plugins. ``HVG_DISABLE_PLUGIN_AUTOLOAD=1`` loads only the built-in distributions.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import pluggy

from hvg_core import hookspecs
from hvg_core.errors import DuplicateRegistrationError, RegistryError, UnknownPartError

#: Kind name -> hook name. The kind is what callers pass to ``Registry.load``.
KINDS: Final[MappingProxyType[str, str]] = MappingProxyType(
    {
        name.removeprefix("hvg_register_"): name
        for name in dir(hookspecs)
        if name.startswith("hvg_register_")
    }
)

#: Distributions whose entry points are loaded even with HVG_DISABLE_PLUGIN_AUTOLOAD=1.
BUILTIN_DISTRIBUTIONS: Final = frozenset(
    {"hvg-core", "hvg-bonemap", "hvg-data", "hvg-sampler", "hvg-model", "hvg-eval"}
)
DISABLE_AUTOLOAD_ENV: Final = "HVG_DISABLE_PLUGIN_AUTOLOAD"


@dataclass(frozen=True)
class Entry:
    """One registered part.

    Attributes:
        kind: Registry kind, e.g. ``"datasets"`` (see ``KINDS``).
        name: Registry key users type.
        target: The object, or a lazy ``"module:attribute"`` string.
        plugin: Name of the plugin (entry point) that registered it.
        distribution: Distribution that provides the plugin (``"?"`` if registered by hand).
        version: That distribution's version (``"?"`` if unknown).
        description: One-line description (the part's ``description`` or docstring summary).
        metadata: Facts about the part: its own public class attributes (``kind``,
            ``higher_is_better``, ...) plus the extra keywords given at registration.
        repeated: Facts the registration repeated although the part states them itself
            (``hvg_core.testing.check_plugin`` fails on any).
    """

    kind: str
    name: str
    target: object
    plugin: str
    distribution: str
    version: str
    description: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    repeated: tuple[str, ...] = ()

    @property
    def is_lazy(self) -> bool:
        """Whether ``target`` is a ``"module:attribute"`` reference not yet imported."""
        return isinstance(self.target, str)

    def load(self) -> Any:
        """Return the registered object, importing a lazy reference on first use."""
        if not isinstance(self.target, str):
            return self.target
        module_name, _, attribute = self.target.partition(":")
        if not module_name or not attribute:
            raise RegistryError(
                f"{self.kind} {self.name!r} from plugin {self.plugin!r} has the malformed "
                f"reference {self.target!r}; expected 'package.module:attribute'"
            )
        module = importlib.import_module(module_name)
        obj: Any = module
        for part in attribute.split("."):
            obj = getattr(obj, part)
        return obj


# -- facts a part states about itself --------------------------------------------------------------
#
# One source per fact: a part's registry name, description and other class-level facts are written
# once, on the part. For a lazy "module:attribute" reference they are read from the module's source
# without importing it (no torch for `--help`): the class body's literal assignments and its
# docstring. Only what the class states in its own body counts (a subclass states its own name).


_RST_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")
_RST_LITERAL = re.compile(r"``([^`]+)``")


def _docstring_summary(doc: str | None) -> str:
    """The first line of a docstring as plain text (reST roles and literals unwrapped), or ``""``."""
    lines = inspect.cleandoc(doc).splitlines() if doc else []
    summary = lines[0].strip() if lines else ""
    return _RST_LITERAL.sub(r"\1", _RST_ROLE.sub(r"\1", summary))


def _module_source_path(module_name: str) -> Path | None:
    """The ``.py`` file of ``module_name``, found without importing it (or its parents)."""
    top, *rest = module_name.split(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if not rest:
        return Path(spec.origin) if spec.origin and spec.origin.endswith(".py") else None
    locations = list(spec.submodule_search_locations or [])
    for position, part in enumerate(rest):
        last = position == len(rest) - 1
        found: str | None = None
        for location in locations:
            module_file = os.path.join(location, f"{part}.py")
            package_init = os.path.join(location, part, "__init__.py")
            if last and os.path.isfile(module_file):
                found = module_file
            elif os.path.isfile(package_init):
                found = package_init
            if found is not None:
                break
        if found is None:
            return None
        if last:
            return Path(found)
        locations = [os.path.dirname(found)]
    return None


def _literal_class_attributes(node: ast.ClassDef) -> dict[str, Any]:
    """Public attributes the class body assigns a literal to (``name = "x"``, ``kind: ... = ...``)."""
    facts: dict[str, Any] = {}
    for statement in node.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        else:
            continue
        if not isinstance(target, ast.Name) or target.id.startswith("_"):
            continue
        try:
            facts[target.id] = ast.literal_eval(value)
        except ValueError:
            continue
    return facts


_SOURCE_CACHE: dict[Path, tuple[float, str]] = {}
#: A line that starts a new top-level statement (not indented, not a comment or closing bracket).
_TOP_LEVEL_LINE = re.compile(r"^[^\s#)\]}]", re.M)
_IMPORT_FROM = re.compile(r"^from\s+([A-Za-z_][\w.]*)\s+import\s+(?:\(([^)]*)\)|([^\n]*))", re.M)


def _source(path: Path) -> str:
    stamp = path.stat().st_mtime
    cached = _SOURCE_CACHE.get(path)
    if cached is None or cached[0] != stamp:
        cached = (stamp, path.read_text(encoding="utf-8"))
        _SOURCE_CACHE[path] = cached
    return cached[1]


_DEFINITIONS: dict[tuple[Path, float, str], ast.stmt | None] = {}


def _definition(path: Path, name: str) -> ast.stmt | None:
    """The top-level ``class``/``def`` called ``name`` in ``path``, parsing only its lines.

    Parsing one definition (once per process) instead of whole modules keeps ``hvg --help``
    fast. If the slice does not parse on its own (unusual layout), the whole module is parsed.
    """
    text = _source(path)
    key = (path, _SOURCE_CACHE[path][0], name)
    if key in _DEFINITIONS:
        return _DEFINITIONS[key]
    node: ast.stmt | None = None
    found = re.search(rf"^(?:class|def|async\s+def)\s+{re.escape(name)}\b", text, re.M)
    if found is not None:
        line_end = text.find("\n", found.start())
        body_start = len(text) if line_end < 0 else line_end + 1
        following = _TOP_LEVEL_LINE.search(text, body_start)
        end = following.start() if following else len(text)
        try:
            node = ast.parse(text[found.start() : end]).body[0]
        except (SyntaxError, IndexError):
            tree = ast.parse(text, filename=str(path))
            node = next((n for n in tree.body if getattr(n, "name", None) == name), None)
    _DEFINITIONS[key] = node
    return node


def _imported_names(path: Path) -> dict[str, str]:
    """``{local name: "module:attribute"}`` for the module's absolute ``from X import Y``."""
    names = {}
    for match in _IMPORT_FROM.finditer(_source(path)):
        module, listed = match.group(1), match.group(2) or match.group(3)
        for item in listed.split("#")[0].split(","):
            parts = item.split()
            if len(parts) == 1 or (len(parts) == 3 and parts[1] == "as"):
                names[parts[-1]] = f"{module}:{parts[0]}"
    return names


def _class_facts(node: ast.ClassDef, path: Path, depth: int) -> dict[str, Any]:
    """Literal attributes of a class and of the bases it names, the class's own winning."""
    facts: dict[str, Any] = {}
    for base in reversed(node.bases):
        if not isinstance(base, ast.Name) or depth > 8:
            continue
        local = _definition(path, base.id) if base.id != node.name else None
        if isinstance(local, ast.ClassDef):
            facts.update(_class_facts(local, path, depth + 1))
        elif base.id in (imported := _imported_names(path)):
            facts.update(_static_facts(imported[base.id], depth + 1) or {})
    facts.pop("description", None)  # a base's description does not describe the subclass
    own = _literal_class_attributes(node)
    facts.update(own)
    if not own.get("description"):
        facts["description"] = _docstring_summary(ast.get_docstring(node))
    return facts


def _static_facts(reference: str, depth: int = 0) -> dict[str, Any] | None:
    """Facts of a lazy ``"module:Attribute"`` part read from source; ``None`` if not readable."""
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute or "." in attribute:
        return None
    path = _module_source_path(module_name)
    if path is None:
        return None
    try:
        node = _definition(path, attribute)
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    if isinstance(node, ast.ClassDef):
        return _class_facts(node, path, depth)
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return {"description": _docstring_summary(ast.get_docstring(node))}
    return None  # defined elsewhere (re-exported): import it instead


def _object_facts(obj: object) -> dict[str, Any]:
    """Facts an imported part states: literal class attributes (own and inherited), docstring."""
    if inspect.isclass(obj):
        facts: dict[str, Any] = {}
        for klass in reversed(obj.__mro__[:-1]):  # base first, the class itself last
            facts.update(
                (key, value)
                for key, value in vars(klass).items()
                if not key.startswith("_")
                and isinstance(value, str | int | float | bool | tuple | list | type(None))
            )
        if not vars(obj).get("description"):
            facts["description"] = _docstring_summary(obj.__doc__)
        return facts
    short_help = getattr(obj, "get_short_help_str", None)  # a click command
    if callable(short_help) and isinstance(getattr(obj, "name", None), str):
        return {"name": obj.name, "description": short_help(limit=200)}  # type: ignore[attr-defined]
    if inspect.isfunction(obj) or inspect.ismethod(obj):
        return {"description": _docstring_summary(obj.__doc__)}
    return {}


def _plain(value: Any) -> Any:
    """``value`` with tuples as lists, so ``("cpu",)`` and ``["cpu"]`` state the same fact."""
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def part_facts(target: object) -> dict[str, Any]:
    """What a part states about itself: ``name``, ``description`` and other class facts.

    Args:
        target: The part, or a lazy ``"module:attribute"`` reference (read from source when
            possible, imported otherwise).

    Returns:
        A dict; ``"description"`` is always present (possibly ``""``), ``"name"`` only if the
        part declares one.
    """
    if isinstance(target, str):
        module_name, _, attribute = target.partition(":")
        if not module_name or not attribute or _module_source_path(module_name) is None:
            # Malformed or not importable from source: Entry.load reports it when first used.
            return {"description": ""}
        facts = _static_facts(target)
        if facts is None:  # re-exported or built dynamically: only importing can tell
            facts = _object_facts(Entry("?", "?", target, "?", "?", "?").load())
    else:
        facts = _object_facts(target)
    facts.setdefault("description", "")
    return facts


def _distribution_of(entry_point: importlib_metadata.EntryPoint) -> tuple[str, str]:
    dist = entry_point.dist
    if dist is None:
        return "?", "?"
    return dist.metadata["Name"], dist.version


def make_plugin_manager(*, load_entry_points: bool = True) -> pluggy.PluginManager:
    """Create the ``hvg`` plugin manager with every hook specification added.

    Args:
        load_entry_points: Register the plugins of the ``hvg`` entry-point group. Third-party
            ones are skipped when ``HVG_DISABLE_PLUGIN_AUTOLOAD`` is set to a true value.

    Returns:
        The plugin manager; ``manager.hvg_distributions`` maps plugin name to
        ``(distribution, version)``.
    """
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    manager.hvg_distributions = {}  # type: ignore[attr-defined]
    if load_entry_points:
        only_builtins = os.environ.get(DISABLE_AUTOLOAD_ENV, "").strip().lower() in {
            "1",
            "true",
            "yes",
            "on",
        }
        seen: set[str] = set()
        for entry_point in importlib_metadata.entry_points(group=hookspecs.ENTRY_POINT_GROUP):
            distribution, version = _distribution_of(entry_point)
            if only_builtins and distribution not in BUILTIN_DISTRIBUTIONS:
                continue
            # The same distribution can be visible twice (editable + site-packages).
            if entry_point.name in seen:
                continue
            seen.add(entry_point.name)
            try:
                plugin = entry_point.load()
            except Exception as error:
                raise RegistryError(
                    f"plugin {entry_point.name!r} (entry point {entry_point.value!r} of "
                    f"distribution {distribution} {version}) failed to import: {error!r}. "
                    f"Fix or uninstall it, or set {DISABLE_AUTOLOAD_ENV}=1 to load only HVG's "
                    "built-in plugins."
                ) from error
            manager.register(plugin, name=entry_point.name)
            manager.hvg_distributions[entry_point.name] = (distribution, version)  # type: ignore[attr-defined]
    manager.check_pending()
    return manager


class Registry:
    """Typed facade over the plugin manager: every registered part, by kind and name.

    Args:
        manager: A plugin manager from :func:`make_plugin_manager`, possibly with more plugins
            registered by hand (``manager.register(module_or_object, name="...")``).
    """

    def __init__(self, manager: pluggy.PluginManager) -> None:
        self.manager = manager
        self._entries: dict[str, dict[str, Entry]] = {kind: {} for kind in KINDS}
        distributions: dict[str, tuple[str, str]] = getattr(manager, "hvg_distributions", {})
        for kind, hook_name in KINDS.items():
            hook = getattr(manager.hook, hook_name)
            # Call implementations one by one so each registration knows its plugin.
            for implementation in reversed(hook.get_hookimpls()):
                distribution, version = distributions.get(implementation.plugin_name, ("?", "?"))
                register = self._make_register(
                    kind, implementation.plugin_name, distribution, version
                )
                implementation.function(register=register)

    def _make_register(self, kind: str, plugin: str, distribution: str, version: str) -> Any:
        def register(
            name_or_part: object,
            part: object = None,
            *,
            description: str | None = None,
            **metadata: Any,
        ) -> None:
            if part is None:  # register(part): the part names and describes itself
                name, part = None, name_or_part
            else:
                name = name_or_part
            facts = part_facts(part)
            own_name = facts.pop("name", None) or None  # a base's `name = ""` names nothing
            own_description = facts.pop("description", "")
            repeated = []
            if name is not None and own_name is not None:
                if name != own_name:
                    raise RegistryError(
                        f"plugin {plugin!r} registered {kind} {name!r}, but the part {part!r} "
                        f"calls itself {own_name!r}; register the part alone, it names itself"
                    )
                repeated.append("name")
            name = name if name is not None else own_name
            if not isinstance(name, str) or not name or name != name.strip() or " " in name:
                raise RegistryError(
                    f"plugin {plugin!r} registered {kind} with the invalid name {name!r}; "
                    "names are non-empty strings without spaces (a part registered alone "
                    'must declare `name = "..."` on its class)'
                )
            if description is not None and own_description:
                repeated.append("description")
            for key, value in metadata.items():
                if key in facts:
                    if _plain(facts[key]) != _plain(value):
                        raise RegistryError(
                            f"plugin {plugin!r} registered {kind} {name!r} with {key}={value!r}, "
                            f"but the part itself says {key}={facts[key]!r}"
                        )
                    repeated.append(key)
            existing = self._entries[kind].get(name)
            if existing is not None:
                raise DuplicateRegistrationError(
                    f"{kind} {name!r} is registered twice: by plugin {existing.plugin!r} "
                    f"({existing.distribution}) and by plugin {plugin!r} ({distribution}). "
                    "Rename one of them, or uninstall one of the two plugins."
                )
            self._entries[kind][name] = Entry(
                kind=kind,
                name=name,
                target=part,
                plugin=plugin,
                distribution=distribution,
                version=version,
                description=description if description is not None else own_description,
                metadata={**facts, **metadata},
                repeated=tuple(repeated),
            )

        return register

    def _check_kind(self, kind: str) -> None:
        if kind not in self._entries:
            raise UnknownPartError(
                f"unknown registry kind {kind!r}; kinds are: {', '.join(sorted(KINDS))}"
            )

    def kinds(self) -> list[str]:
        """All registry kinds, sorted."""
        return sorted(self._entries)

    def names(self, kind: str) -> list[str]:
        """Sorted names registered under ``kind``."""
        self._check_kind(kind)
        return sorted(self._entries[kind])

    def entries(self, kind: str | None = None) -> list[Entry]:
        """Entries of one kind (or of every kind), sorted by kind then name."""
        kinds: Iterable[str] = self.kinds() if kind is None else [kind]
        result = []
        for each in kinds:
            self._check_kind(each)
            result.extend(self._entries[each][name] for name in sorted(self._entries[each]))
        return result

    def entry(self, kind: str, name: str) -> Entry:
        """The entry registered as ``name`` under ``kind``.

        Raises:
            UnknownPartError: With the available names in the message.
        """
        self._check_kind(kind)
        try:
            return self._entries[kind][name]
        except KeyError:
            available = ", ".join(self.names(kind)) or "none"
            raise UnknownPartError(
                f"no {kind} named {name!r}; available: {available}. "
                "Run `hvg plugins` to see every registered part and the plugin providing it."
            ) from None

    def load(self, kind: str, name: str) -> Any:
        """The object registered as ``name`` under ``kind`` (imported if lazy)."""
        return self.entry(kind, name).load()

    def __contains__(self, key: tuple[str, str]) -> bool:
        kind, name = key
        return kind in self._entries and name in self._entries[kind]


_REGISTRY: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry, built from the installed entry points on first call."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = Registry(make_plugin_manager())
    return _REGISTRY


def reset_registry() -> None:
    """Forget the process-wide registry (tests; after installing or removing plugins)."""
    global _REGISTRY
    _REGISTRY = None


def load(kind: str, name: str) -> Any:
    """Shortcut for ``get_registry().load(kind, name)``."""
    return get_registry().load(kind, name)


def names(kind: str) -> list[str]:
    """Shortcut for ``get_registry().names(kind)``."""
    return get_registry().names(kind)
