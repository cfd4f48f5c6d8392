"""``PoseSpec``: the one description of the pose signal a network is conditioned on.

A pose spec names everything that decides what the network's pose input looks like: the signal
(``bonemap``, ``depth``, ``normal``, ``skeleton2d``, ...), its channel layout (which part fills
which channels), the metres spanned by the depth code, the bone set and radius rule, and the view
alignment (the crop rule). It is stored in shard manifests (``hvg-data``), hashed into the render
configuration, saved in the model's config and in exported pipelines, and every conversion of the
signal goes through :mod:`hvg_bonemap.pose_codec` with it, so that data, training and inference
cannot disagree silently.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hvg_bonemap._validation import BoneMapInputError
from hvg_bonemap.pose_encoding import DEFAULT_DEPTH_RANGE

POSE_SPEC_VERSION = 1
"""Version written by :meth:`PoseSpec.to_dict`; bump when a field changes meaning."""

ALIGNMENTS = ("pelvis_window",)
"""View-alignment rules. ``pelvis_window``: a square window ``crop_extent`` metres wide at the mean
pelvis depth, centred on the pelvis projected and averaged over the frames
(:func:`hvg_bonemap.alignment.view_alignment_boxes`)."""

BONE_MAP_PARTS = ("depth", "normal")
"""Layout parts computed from rendered (or stored) bone maps; any other part is rendered from
joints and cameras by its signal."""

#: Fields that fix the drawn geometry: data rendered under one value cannot be used under another.
GEOMETRY_FIELDS = ("bones", "radii", "alignment", "crop_extent")


class PoseSpecError(BoneMapInputError):
    """A pose spec, or pose input checked against one, is invalid; ``field`` names the culprit."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class PoseSpec:
    """What the network's pose input is and how it is made (serialisable, versioned).

    Attributes:
        signal: Pose-signal name (a registered ``pose_signals`` entry).
        layout: ``((part, channels), ...)`` in channel order; e.g. the bone map is
            ``(("depth", 1), ("normal", 3))``. Each part gets its own guider in the pose modulator.
        depth_range: Metres spanned by the depth code (pelvis at 0.5).
        bones: Bone-set name (``hvg_bonemap.skeleton.BONE_SETS``).
        radii: Radius preset of the bones (``hvg_bonemap.skeleton.RADII_PRESETS``).
        alignment: View-alignment rule, one of :data:`ALIGNMENTS`.
        crop_extent: Metric side of the view-alignment window at the mean pelvis depth.
        skeleton_width_px: Limb width of ``skeleton2d`` at a 576-pixel-high image.
        version: Format version (:data:`POSE_SPEC_VERSION`).
    """

    signal: str = "bonemap"
    layout: tuple[tuple[str, int], ...] = (("depth", 1), ("normal", 3))
    depth_range: float = DEFAULT_DEPTH_RANGE
    bones: str = "paper"
    radii: str = "thin"
    alignment: str = "pelvis_window"
    crop_extent: float = 2.2
    skeleton_width_px: float = 6.0
    version: int = field(default=POSE_SPEC_VERSION)

    def __post_init__(self) -> None:
        layout = tuple((str(name), int(channels)) for name, channels in self.layout)
        object.__setattr__(self, "layout", layout)
        if not self.signal or not isinstance(self.signal, str):
            raise PoseSpecError("expected a non-empty signal name", field="signal")
        if not layout or any(channels < 1 for _, channels in layout):
            raise PoseSpecError(f"expected parts with >= 1 channel, got {layout}", field="layout")
        if len({name for name, _ in layout}) != len(layout):
            raise PoseSpecError(f"part names repeat in {layout}", field="layout")
        if not float(self.depth_range) > 0:
            raise PoseSpecError(f"must be > 0 metres, got {self.depth_range}", field="depth_range")
        if self.alignment not in ALIGNMENTS:
            raise PoseSpecError(
                f"unknown rule {self.alignment!r}; known: {', '.join(ALIGNMENTS)}",
                field="alignment",
            )
        if not float(self.crop_extent) > 0:
            raise PoseSpecError(f"must be > 0 metres, got {self.crop_extent}", field="crop_extent")
        if not float(self.skeleton_width_px) > 0:
            raise PoseSpecError("must be > 0 pixels", field="skeleton_width_px")
        if self.version != POSE_SPEC_VERSION:
            raise PoseSpecError(
                f"version {self.version} is not readable by this hvg-bonemap "
                f"(reads {POSE_SPEC_VERSION})",
                field="version",
            )

    @property
    def channels(self) -> int:
        """Channels ``C`` of the network's pose input ``(..., C, H, W)``."""
        return sum(channels for _, channels in self.layout)

    @property
    def from_bone_maps(self) -> bool:
        """Whether the input is computed from bone maps alone (depth/normal parts)."""
        return all(name in BONE_MAP_PARTS for name, _ in self.layout)

    @classmethod
    def for_signal(cls, signal: str, signal_class: Any = None, **fields: Any) -> PoseSpec:
        """The spec of a pose signal, its layout read from the signal's class.

        Args:
            signal: Signal name.
            signal_class: The registered class (or instance) of the signal; default: the
                built-in signal of that name in :mod:`hvg_bonemap.signals`. Its ``layout``
                attribute gives the parts (a class without one is a single part
                ``(signal, channels)``).
            **fields: Other :class:`PoseSpec` fields.

        Raises:
            PoseSpecError: Unknown built-in signal (``field="signal"``).
        """
        if signal_class is None:
            from hvg_bonemap.signals import BUILTIN_SIGNALS

            if signal not in BUILTIN_SIGNALS:
                raise PoseSpecError(
                    f"unknown pose signal {signal!r}; built-in: {', '.join(BUILTIN_SIGNALS)}",
                    field="signal",
                )
            signal_class = BUILTIN_SIGNALS[signal]
        layout = getattr(signal_class, "layout", None)
        if layout is None:
            layout = ((signal, int(signal_class.channels)),)
        return cls(signal=signal, layout=tuple(layout), **fields)

    def replace(self, **changes: Any) -> PoseSpec:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON form; ``channels`` is written too, for readers that do not know the layout."""
        return {
            "version": self.version,
            "signal": self.signal,
            "channels": self.channels,
            "layout": [[name, channels] for name, channels in self.layout],
            "depth_range": float(self.depth_range),
            "bones": self.bones,
            "radii": self.radii,
            "alignment": self.alignment,
            "crop_extent": float(self.crop_extent),
            "skeleton_width_px": float(self.skeleton_width_px),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PoseSpec:
        """Inverse of :meth:`to_dict`.

        Raises:
            PoseSpecError: Not a mapping, an unknown key, a wrong version, or ``channels`` that
                disagree with ``layout`` (the field is named).
        """
        if not isinstance(data, Mapping):
            raise PoseSpecError(f"expected a mapping, got {type(data).__name__}", field="pose_spec")
        known = {f.name for f in dataclasses.fields(cls)} | {"channels"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise PoseSpecError(f"unknown keys {unknown}", field=unknown[0])
        values = {key: value for key, value in data.items() if key != "channels"}
        if "layout" in values:
            try:
                values["layout"] = tuple((str(n), int(c)) for n, c in values["layout"])
            except (TypeError, ValueError) as error:
                raise PoseSpecError(
                    f"expected [[part, channels], ...], got {values['layout']!r}", field="layout"
                ) from error
        try:
            spec = cls(**values)
        except TypeError as error:
            raise PoseSpecError(str(error), field="pose_spec") from error
        if "channels" in data and int(data["channels"]) != spec.channels:
            raise PoseSpecError(
                f"{data['channels']} disagrees with the layout's {spec.channels}", field="channels"
            )
        return spec

    def geometry_differences(self, other: PoseSpec) -> list[str]:
        """Fields of :data:`GEOMETRY_FIELDS` where ``other`` draws different bones or windows."""
        return [name for name in GEOMETRY_FIELDS if getattr(self, name) != getattr(other, name)]


DEFAULT_POSE_SPEC = PoseSpec()
"""The paper's bone map; also the spec of data written before specs were recorded."""
