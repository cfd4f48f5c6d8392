"""Render configuration of ``hvg-data render`` and its hash (the resume key of shards)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from hvg_core.config import Config
from hvg_core.errors import InputError


@dataclass(frozen=True)
class RenderConfig(Config):
    """How subjects are turned into shard samples (an ``hvg_core.config.Config``).

    :meth:`to_dict`/:meth:`from_dict` are the versioned form of every HVG config; the manifest
    keeps :meth:`to_json` (the fields without the version key), which is also what :meth:`hash`
    reads, so the hash of shards rendered before this was a ``Config`` has not changed.

    Attributes:
        views: Views per sample: orbit cameras for scans, cameras picked around the subject for
            captures.
        size: Output image side in pixels (square), after the pelvis-centred crop.
        elevation_deg: Orbit elevation of scan cameras.
        distance: Orbit distance of scan cameras from the pelvis, metres.
        fov_deg: Vertical field of view of the uncropped orbit cameras.
        crop_extent: Side of the pelvis-centred crop in metres at the pelvis depth (view
            alignment: the same metric window in every view).
        frames: Frames per capture sample (``None`` = all the adapter yields).
        body_model: Registry name of the body model turning SMPL-X parameters into joints.
        scan_renderer: Registry name of the scan renderer.
        background: RGB background colour (0-255) of renders and masked captures.
        bones: Bone set of the bone maps (``hvg_bonemap`` name).
        radii: Radius preset of the bones (``hvg_bonemap.skeleton.RADII_PRESETS``).
        shard_size: Samples per shard.
        compression: gzip level of image arrays in shards (0 = none).
        adapter: The adapter's own configuration (``DatasetAdapter.config()``).
    """

    views: int = 8
    size: int = 576
    elevation_deg: float = 0.0
    distance: float = 2.8
    fov_deg: float = 40.0
    crop_extent: float = 2.2
    frames: int | None = None
    body_model: str = "builtin"
    scan_renderer: str = "embree"
    background: tuple[int, int, int] = (255, 255, 255)
    bones: str = "paper"
    radii: str = "thin"
    shard_size: int = 8
    compression: int = 1
    adapter: dict[str, Any] = field(default_factory=dict)

    CONFIG_VERSION: ClassVar[int] = 1

    def __post_init__(self) -> None:
        if self.views < 1:
            raise InputError("must be >= 1", field="views")
        if self.size < 8:
            raise InputError("must be >= 8 pixels", field="size")
        if self.shard_size < 1:
            raise InputError("must be >= 1", field="shard_size")
        if self.frames is not None and self.frames < 1:
            raise InputError("must be >= 1", field="frames")
        if not 0 < self.fov_deg < 180:
            raise InputError("must be in (0, 180) degrees", field="fov_deg")
        if self.distance <= 0 or self.crop_extent <= 0:
            raise InputError("distance and crop_extent must be > 0", field="distance")
        self.pose_spec  # noqa: B018 - validates bones, radii and the crop rule

    @property
    def pose_spec(self) -> Any:
        """The ``hvg_bonemap.PoseSpec`` of the stored bone maps (bones, radii, view alignment).

        Raises:
            InputError: Unknown bone set or radius preset (the field is named).
        """
        from hvg_bonemap.pose_spec import PoseSpec, PoseSpecError
        from hvg_bonemap.skeleton import BONE_SETS, RADII_PRESETS

        if self.bones not in BONE_SETS:
            raise InputError(f"unknown bone set; known: {sorted(BONE_SETS)}", field="bones")
        if self.radii not in RADII_PRESETS:
            raise InputError(f"unknown preset; known: {sorted(RADII_PRESETS)}", field="radii")
        try:
            return PoseSpec(bones=self.bones, radii=self.radii, crop_extent=self.crop_extent)
        except PoseSpecError as error:
            raise InputError(str(error), field=error.field) from error

    def to_json(self) -> dict[str, Any]:
        """JSON form (tuples as lists)."""
        data = dataclasses.asdict(self)
        data["background"] = list(self.background)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], *, source: str = "manifest.json") -> RenderConfig:
        """Inverse of :meth:`to_json` (and of :meth:`to_dict`): values coerced to the field types.

        Raises:
            InputError: An unknown field or a value of the wrong type, naming the field.
        """
        return cls.from_dict(data, source=source)

    def hash(self) -> str:
        """SHA-256 (first 16 hex digits) of everything that changes the shard contents.

        The dataset root path is left out so that moving a dataset does not invalidate shards.
        The pose spec (:attr:`pose_spec`) and the bone set's geometry (bones, radius rule,
        virtual joints) are included, so a change of the radius rule in ``hvg_bonemap`` changes
        the hash too.
        """
        from hvg_bonemap.skeleton import bone_geometry

        data = self.to_json()
        adapter = dict(data.pop("adapter"))
        adapter.pop("root", None)
        data["adapter"] = adapter
        data["bone_geometry"] = bone_geometry(self.bones, self.radii)
        data["pose_spec"] = self.pose_spec.to_dict()
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]
