"""HVGPipeline: reference image + pose maps + cameras → multi-view video, sampled with hvg-sampler.

Flow (paper Fig. 2 and §3.3):

1. Conditioning, computed once: CLIP embedding, SVD's noise-augmented VAE latent and the
   ReferenceNet bank of the reference image; camera rotations relative to view 0.
2. A registered ``hvg-sampler`` sampler (``"hvg"``: progressive spatio-temporal windows) calls
   :class:`HVGDenoiser` on windows of views and frames, each window within the model's training
   budget (:meth:`HVGPipeline.window_budget`). Classifier-free guidance uses an unconditional
   branch that training produced (:data:`UNCOND_MODES`; pose and cameras kept in both
   branches, as training kept them in 95 % of rows).
3. The latents are decoded chunk by chunk with SVD's temporal VAE decoder → frames
   ``(B, V, T, 3, H, W)`` in [0, 1].
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from hvg_core.errors import InputError

from hvg_model.conditioning import (
    check_images,
    decode_latents,
    denoiser_sample,
    encode_reference,
)
from hvg_model.denoising_net import HVGDenoisingNet
from hvg_model.embeddings import relative_rotations
from hvg_model.loading import (
    HVG_COMPONENTS,
    check_model_dir,
    load_frozen_components,
    load_svd_unet,
    vae_scale_factor,
)
from hvg_model.pose_modulator import guider_strides_for
from hvg_model.reference_image import load_reference_image
from hvg_model.reference_net import HVGReferenceNet
from hvg_model.training_layout import TRAINING_LAYOUT_FILE as TRAINING_LAYOUT_FILE  # re-export
from hvg_model.training_layout import TrainingLayout

REFERENCE_PREFIX = "reference::"

#: File of a saved pipeline that records how its network was trained (JSON).

#: Unconditional branches of classifier-free guidance, each a condition training dropped to:
#: ``"reference_image"`` zeroes the CLIP embedding and the concatenated latent and keeps the
#: ReferenceNet bank (training's ``drop_reference_image`` rows that kept the ReferenceNet:
#: p_image · (1 − p_reference) = 9 % of rows with the default 10 %/10 % dropouts; SVD's negative
#: conditioning); ``"all"`` also zeroes the ReferenceNet bank and reads it like training's
#: dropped rows do (both dropouts at once: p_image · p_reference = 1 % of rows).
UNCOND_MODES = ("reference_image", "all")


@dataclass
class HVGPipelineOutput:
    """Result of :meth:`HVGPipeline.__call__`.

    Attributes:
        frames: ``(B, V, T, 3, H, W)`` float32 in [0, 1].
        latents: ``(B, V, T, 4, h, w)`` denoised latents (VAE-scaled, σ = 0).
        num_denoiser_calls: Network calls the sampler made.
    """

    frames: torch.Tensor
    latents: torch.Tensor
    num_denoiser_calls: int


class HVGDenoiser:
    """``hvg_sampler`` Denoiser protocol around an :class:`HVGDenoisingNet`.

    Reads from the window conditioning: ``shared["clip_embedding"]`` ``(N, 1, D)``,
    ``shared["image_latents"]`` ``(N, 4, h, w)``, ``shared["added_time_ids"]`` ``(N, 3)``,
    ``shared["reference::<layer key>"]`` ``(N, S, C)``, ``per_image["pose_maps"]``
    ``(N, v, t, C_pose, H, W)`` and ``per_view["cameras"]`` ``(N, v, 3, 3)`` (relative
    rotations). Uncond rows read whatever their conditioning holds (zeros where training
    dropped a path), in the same call as the cond rows.
    """

    def __init__(self, net: HVGDenoisingNet) -> None:
        self.net = net

    def __call__(
        self, latents: torch.Tensor, sigma: torch.Tensor, conditioning: Any
    ) -> torch.Tensor:
        """Raw network output ``(N, v, t, 4, h, w)`` for scaled latents ``(N, v, t, 4, h, w)``.

        Cond and uncond rows run in one network call: the uncond rows differ only by their
        conditioning values (zeros where training dropped a path, :data:`UNCOND_MODES`), so
        they go through exactly the computation training gave dropped rows. A window of one
        frame runs with temporal mixing off (``image_only_indicator`` = 1), as stage 1 trained
        every single-frame sample.
        """
        rows = torch.arange(latents.shape[0], device=latents.device)
        return self._run(latents, conditioning, rows)

    def _run(self, latents: torch.Tensor, conditioning: Any, rows: torch.Tensor) -> torch.Tensor:
        n, views, frames = latents.shape[:3]
        shared = conditioning.shared
        dtype = self.net.dtype
        image_latents = shared["image_latents"][rows].to(latents.device, dtype)
        sample = denoiser_sample(latents.to(dtype), image_latents)  # as training builds it
        reference = {
            key[len(REFERENCE_PREFIX) :]: value[rows]
            for key, value in shared.items()
            if key.startswith(REFERENCE_PREFIX)
        } or None
        indicator = None
        if frames == 1:
            indicator = torch.ones(n * views, 1, device=latents.device, dtype=dtype)
        pose = conditioning.per_image.get("pose_maps")
        cameras = conditioning.per_view.get("cameras")
        with torch.no_grad():
            output = self.net(
                sample,
                conditioning.timestep.to(latents.device),
                shared["clip_embedding"][rows].to(dtype),
                shared["added_time_ids"][rows],
                pose_maps=None if pose is None else pose[rows].flatten(0, 1),
                cameras=None if cameras is None else cameras[rows].flatten(0, 1),
                num_views=views,
                reference_features=reference,
                image_only_indicator=indicator,
            ).sample
        return output.unflatten(0, (n, views)).to(latents.dtype)


class HVGPipeline:
    """The inference pipeline: networks, frozen SVD components and the sampling loop.

    Args:
        denoising_net: The DenoisingNet.
        reference_net: The ReferenceNet (None: no reference attention).
        vae: SVD's ``AutoencoderKLTemporalDecoder``.
        image_encoder: SVD's ``CLIPVisionModelWithProjection``.
        feature_extractor: SVD's ``CLIPImageProcessor`` (for mean/std).
        scheduler: SVD's scheduler (its σ range configures the sampler's EDM schedule).
        training_layout: How the network was trained (:func:`training_layout_from_config`),
            saved as ``training_layout.json``; it sets the window budget. None: unknown.
    """

    def __init__(
        self,
        denoising_net: HVGDenoisingNet,
        reference_net: HVGReferenceNet | None,
        vae: Any,
        image_encoder: Any,
        feature_extractor: Any = None,
        scheduler: Any = None,
        training_layout: Mapping[str, Any] | None = None,
    ) -> None:
        self.training_layout = None if training_layout is None else dict(training_layout)
        self.denoising_net = denoising_net.eval()
        self.reference_net = reference_net.eval() if reference_net is not None else None
        self.vae = vae.eval()
        self.image_encoder = image_encoder.eval()
        self.feature_extractor = feature_extractor
        self.scheduler = scheduler

    # ------------------------------------------------------------------ loading and saving

    @classmethod
    def from_svd(cls, path: str | os.PathLike[str], **hvg_options: Any) -> HVGPipeline:
        """A fresh (untrained) HVG pipeline initialised from a local SVD-xt directory.

        Raises:
            MissingResourceError: The directory or a component is missing.
        """
        root = check_model_dir(path)
        unet = load_svd_unet(root)
        frozen = load_frozen_components(root)
        hvg_options.setdefault("pose_guider_strides", guider_strides_for(vae_scale_factor(root)))
        net = HVGDenoisingNet.from_svd_unet(unet, **hvg_options)
        reference = (
            HVGReferenceNet.from_svd_unet(unet) if net.config.use_reference_attention else None
        )
        return cls(
            net,
            reference,
            frozen.vae,
            frozen.image_encoder,
            frozen.feature_extractor,
            frozen.scheduler,
        )

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike[str]) -> HVGPipeline:
        """Load an HVG checkpoint directory written by :meth:`save_pretrained`.

        Raises:
            MissingResourceError: The directory or a component is missing.
        """
        components = tuple(c for c in HVG_COMPONENTS if c != "reference_net")
        root = check_model_dir(
            path,
            components,
            kind="HVG checkpoint",
            help_text="Write one with HVGPipeline.save_pretrained or the trainer's export.",
        )
        net = HVGDenoisingNet.from_pretrained(root, subfolder="denoising_net")
        reference = None
        if (root / "reference_net" / "config.json").is_file():
            reference = HVGReferenceNet.from_pretrained(root, subfolder="reference_net")
        elif net.config.use_reference_attention:
            check_model_dir(root, HVG_COMPONENTS, kind="HVG checkpoint")
        frozen = load_frozen_components(root, kind="HVG checkpoint")
        return cls(
            net,
            reference,
            frozen.vae,
            frozen.image_encoder,
            frozen.feature_extractor,
            frozen.scheduler,
            training_layout=read_training_layout(root),
        )

    def save_pretrained(self, path: str | os.PathLike[str]) -> Path:
        """Write every component in diffusers format; each subfolder is replaced atomically."""
        root = Path(path)
        root.mkdir(parents=True, exist_ok=True)
        parts: dict[str, Any] = {
            "denoising_net": self.denoising_net,
            "vae": self.vae,
            "image_encoder": self.image_encoder,
        }
        if self.reference_net is not None:
            parts["reference_net"] = self.reference_net
        if self.feature_extractor is not None:
            parts["feature_extractor"] = self.feature_extractor
        if self.scheduler is not None:
            parts["scheduler"] = self.scheduler
        for name, part in parts.items():
            staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
            part.save_pretrained(staging)
            target = root / name
            if target.exists():
                shutil.rmtree(target)
            os.replace(staging, target)
        if self.training_layout is not None:
            TrainingLayout.from_dict(self.training_layout).check().write(root)
        return root

    def window_budget(self) -> Any:
        """The largest window the network was trained on (``hvg_sampler.budget.WindowBudget``).

        A stage-2 model's recorded ``views_frames`` layouts give it (the largest ``views ×
        frames`` and the most frames); a stage-1 model (never trained on video) and a model
        without a record get the paper's stage-2 budget, 72 images and 24 frames.
        """
        from hvg_sampler.budget import PAPER_BUDGET, budget_from_layouts

        layout = self.training_layout or {}
        if int(layout.get("stage", 0)) >= 2 and layout.get("views_frames"):
            return budget_from_layouts(layout["views_frames"], source="model training layout")
        return PAPER_BUDGET

    def to(
        self, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> HVGPipeline:
        """Move the networks (the VAE stays float32 when SVD's ``force_upcast`` says so)."""
        for module in (self.denoising_net, self.reference_net, self.image_encoder):
            if module is not None:
                if device is not None:
                    module.to(device)
                if dtype is not None:
                    module.to(dtype)
        if device is not None:
            self.vae.to(device)
        if dtype is not None and not getattr(self.vae.config, "force_upcast", False):
            self.vae.to(dtype)
        return self

    @property
    def device(self) -> torch.device:
        """Device of the DenoisingNet."""
        return self.denoising_net.device

    @property
    def vae_scale_factor(self) -> int:
        """Image pixels per latent pixel: 2 per VAE downsampling block (SVD: 8)."""
        return 2 ** (len(self.vae.config.block_out_channels) - 1)

    # ------------------------------------------------------------------ generation

    def conditioning(
        self,
        reference_image: torch.Tensor,
        pose_maps: torch.Tensor | None,
        rotations: torch.Tensor | None,
        *,
        noise_aug_strength: float = 0.02,
        fps: int = 7,
        motion_bucket_id: int = 127,
        generator: torch.Generator | None = None,
        uncond: str = "reference_image",
    ) -> tuple[Any, Any]:
        """Build the ``hvg_sampler`` cond and uncond ``Conditioning`` (computed once).

        Args:
            reference_image: ``(B, 3, H, W)`` in [0, 1].
            pose_maps: ``(B, V, T, C_pose, H, W)`` or None.
            rotations: ``(B, V, 3, 3)`` world-to-camera rotations or None.
            noise_aug_strength: SVD's conditioning noise augmentation.
            fps: SVD's fps conditioning.
            motion_bucket_id: SVD's motion conditioning.
            generator: Generator of the noise augmentation.
            uncond: Which paths the uncond branch drops (:data:`UNCOND_MODES`).

        Returns:
            ``(cond, uncond)``.

        Raises:
            ValueError: Unknown ``uncond``.
        """
        from hvg_sampler import Conditioning

        if uncond not in UNCOND_MODES:
            raise InputError(
                f"uncond must be one of {UNCOND_MODES}, got {uncond!r}", field="uncond"
            )
        device = self.device
        with torch.no_grad():
            encoded = encode_reference(
                reference_image.to(device),
                vae=self.vae,
                image_encoder=self.image_encoder,
                reference_net=self.reference_net,
                feature_extractor=self.feature_extractor,
                noise_aug_strength=noise_aug_strength,
                fps=fps,
                motion_bucket_id=motion_bucket_id,
                generator=generator,
            )
        shared: dict[str, Any] = {
            "clip_embedding": encoded.clip_embedding,
            "image_latents": encoded.image_latents,
            "added_time_ids": encoded.added_time_ids,
        }
        for key, value in (encoded.reference_features or {}).items():
            shared[REFERENCE_PREFIX + key] = value
        per_image = {} if pose_maps is None else {"pose_maps": pose_maps.to(device)}
        per_view = (
            {} if rotations is None else {"cameras": relative_rotations(rotations.to(device))}
        )
        cond = Conditioning(per_view=per_view, per_image=per_image, shared=shared)
        uncond_shared = dict(shared)
        uncond_shared["clip_embedding"] = torch.zeros_like(encoded.clip_embedding)
        uncond_shared["image_latents"] = torch.zeros_like(encoded.image_latents)
        if uncond == "all":
            for key, value in (encoded.reference_features or {}).items():
                uncond_shared[REFERENCE_PREFIX + key] = torch.zeros_like(value)
        negative = Conditioning(per_view=per_view, per_image=per_image, shared=uncond_shared)
        return cond, negative

    def __call__(
        self,
        reference_image: Any,
        pose_maps: torch.Tensor | None = None,
        rotations: torch.Tensor | None = None,
        *,
        num_views: int | None = None,
        num_frames: int | None = None,
        sampler: str = "hvg",
        sampler_options: Mapping[str, Any] | None = None,
        num_steps: int = 25,
        min_guidance_scale: float = 1.0,
        max_guidance_scale: float = 3.0,
        noise_aug_strength: float = 0.02,
        fps: int = 7,
        motion_bucket_id: int = 127,
        seed: int = 0,
        decode_chunk_size: int = 8,
        show_progress: bool | None = None,
        uncond: str = "reference_image",
        align_reference: bool = False,
        reference_mask: torch.Tensor | None = None,
        pose_spec: Any = None,
    ) -> HVGPipelineOutput:
        """Generate a multi-view video.

        Windows default to the paper's 24/8 frames and 6/2 views, capped by the model's
        training budget (:meth:`window_budget`): no window holds more images or frames than a
        training sample did. ``sampler_options`` may override every choice, including
        ``max_images_per_window`` / ``max_frames_per_window`` (None: unlimited).

        Args:
            reference_image: ``(B, 3, H, W)`` in [0, 1], H and W multiples of 8 (the pose maps'
                size; crop it around the pelvis like the pose maps, ``hvg_bonemap``). With
                ``align_reference`` any size: it is aligned to the first pose frame. Also a
                ``PIL.Image.Image``, an image file path or an ``(H, W, 3)`` uint8 array, centre-
                cropped and resized to the pose maps' size
                (:func:`hvg_model.reference_image.load_reference_image`).
            pose_maps: ``(B, V, T, C_pose, H, W)`` (``hvg_model.pose_input``), or None.
            rotations: ``(B, V, 3, 3)`` world-to-camera rotations (OpenCV); the network gets them
                relative to view 0. None: no camera embedding.
            num_views: V when neither ``pose_maps`` nor ``rotations`` gives it.
            num_frames: T when ``pose_maps`` does not give it.
            sampler: Registered ``hvg-sampler`` name (``"hvg"``, ``"temporal"``, ``"view"``…).
            sampler_options: Extra sampler options (windows, overlaps, fusion weight…).
            num_steps: Denoising steps.
            min_guidance_scale: CFG scale at the first frame (SVD).
            max_guidance_scale: CFG scale at the last frame; CFG runs when it exceeds 1.
            noise_aug_strength: SVD's conditioning-image noise augmentation.
            fps: SVD's fps conditioning (fed as fps − 1).
            motion_bucket_id: SVD's motion conditioning.
            seed: Seed of the (seed, frame, view) noise and of the noise augmentation.
            decode_chunk_size: Frames per VAE decoder call.
            show_progress: Progress bar (None: only on a terminal).
            uncond: Which paths the CFG uncond branch drops (:data:`UNCOND_MODES`).
            align_reference: Temporal alignment (paper §3.3): move and scale the reference
                person onto the first frame of view 0's pose maps
                (:func:`hvg_model.conditioning.align_reference`); needs ``pose_maps``.
            reference_mask: ``(B, H_r, W_r)`` person mask of the reference for the alignment
                (None: estimated from the border colour,
                :func:`hvg_model.conditioning.reference_foreground_mask`).
            pose_spec: The ``hvg_bonemap.PoseSpec`` (or dict) ``pose_maps`` were made with, if
                known (``PoseConditioning.spec``); checked against the network's.

        Returns:
            :class:`HVGPipelineOutput`.

        Raises:
            InputError: ``pose_maps`` disagree with the network's pose spec (channels, signal,
                depth range, ...; ``field="pose_spec.<field>"``).
        """
        from hvg_core.cli_utils import progress
        from hvg_sampler import SamplerCallback, build_sampler

        modulator = getattr(self.denoising_net, "pose_modulator", None)
        if pose_maps is not None and modulator is not None:
            from hvg_model.pose_input import check_pose_maps, pose_spec_for

            made_with = None if pose_spec is None else pose_spec_for(pose_spec)
            check_pose_maps(modulator.spec, pose_maps, made_with)

        size = None if pose_maps is None or align_reference else tuple(pose_maps.shape[-2:])
        reference_image = load_reference_image(reference_image, size)
        check_images(reference_image, "reference_image")
        if align_reference:
            if pose_maps is None:
                raise InputError(
                    "align_reference needs pose_maps (the first frame's crop)",
                    field="align_reference",
                )
            reference_image = align_reference_to_pose(reference_image, pose_maps, reference_mask)
        batch, _, height, width = reference_image.shape
        views, frames = _views_and_frames(
            batch, pose_maps, rotations, num_views, num_frames, height, width
        )
        factor = self.vae_scale_factor
        if height % factor or width % factor:
            raise InputError(
                f"reference_image height and width must be multiples of the VAE factor {factor}, "
                f"got {height}×{width}",
                field="reference_image",
            )
        generator = torch.Generator().manual_seed(seed)
        cond, uncond = self.conditioning(
            reference_image,
            pose_maps,
            rotations,
            noise_aug_strength=noise_aug_strength,
            fps=fps,
            motion_bucket_id=motion_bucket_id,
            generator=generator,
            uncond=uncond,
        )
        budget = self.window_budget()
        options: dict[str, Any] = {
            "max_images_per_window": budget.max_images,
            "max_frames_per_window": budget.max_frames,
            "num_steps": num_steps,
            "min_guidance_scale": min_guidance_scale,
            "max_guidance_scale": max_guidance_scale,
            "scheduler": self._schedule(),
            **dict(sampler_options or {}),
        }
        frame_cap = options["max_frames_per_window"] or frames
        view_cap = options["max_images_per_window"] or views
        options.setdefault("frame_window", min(frames, 24, frame_cap))
        options.setdefault("view_window", min(views, 6, view_cap))
        options.setdefault("frame_overlap", min(8, options["frame_window"] - 1))
        options.setdefault("view_overlap", min(2, options["view_window"] - 1))
        chosen = build_sampler(sampler, **options)
        bar = progress(
            range(num_steps),
            desc=f"denoising ({sampler} sampler)",
            unit="step",
            disable=_disable(show_progress),
        )

        class _Progress(SamplerCallback):
            def __init__(self, steps: Iterator[int]) -> None:
                self.steps = steps

            def on_step_end(self, step_index: int, sigma: float, latents: torch.Tensor) -> None:
                next(self.steps, None)

        channels = int(self.vae.config.latent_channels)
        latent_shape = (batch, views, frames, channels, height // factor, width // factor)
        result = chosen.sample(
            HVGDenoiser(self.denoising_net),
            latent_shape,
            conditioning=cond,
            uncond_conditioning=uncond if chosen.uses_guidance else None,
            seed=seed,
            device=self.device,
            callbacks=[_Progress(iter(bar))],
        )
        next(iter(bar), None)
        with torch.no_grad():
            decoded = decode_latents(self.vae, result.latents, chunk_size=decode_chunk_size)
        return HVGPipelineOutput(decoded.cpu(), result.latents, result.num_denoiser_calls)

    def _schedule(self) -> Any:
        from hvg_sampler import EDMEulerSchedule

        if self.scheduler is None:
            return "edm-euler"
        config = self.scheduler.config
        return EDMEulerSchedule(
            sigma_min=float(config.sigma_min), sigma_max=float(config.sigma_max)
        )


def align_reference_to_pose(
    reference_image: torch.Tensor,
    pose_maps: torch.Tensor,
    reference_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Temporal alignment (§3.3): the reference person onto view 0's first pose frame.

    Args:
        reference_image: ``(B, 3, H_r, W_r)`` in [0, 1].
        pose_maps: ``(B, V, T, C, H, W)``; the silhouette of ``[:, 0, 0]`` (non-zero pixels)
            is the target box.
        reference_mask: ``(B, H_r, W_r)`` person mask, or None to estimate it.

    Returns:
        ``(B, 3, H, W)`` aligned reference.
    """
    from hvg_model.conditioning import align_reference, pose_silhouette

    if pose_maps.ndim != 6 or pose_maps.shape[0] != reference_image.shape[0]:
        raise InputError(
            f"pose_maps must have shape (B, V, T, C, H, W) with B = {reference_image.shape[0]}, "
            f"got {tuple(pose_maps.shape)}",
            field="pose_maps",
        )
    target = pose_silhouette(pose_maps[:, 0, 0])
    return align_reference(reference_image, target, reference_mask)[0]


def training_layout_from_config(config: Any) -> dict[str, Any]:
    """What a saved pipeline records about its training (``training_layout.json``).

    Args:
        config: The run's ``hvg_model.training.config.TrainConfig``.

    Returns:
        :meth:`hvg_model.training_layout.TrainingLayout.to_dict`: ``{"version", "stage",
        "views_frames", "image_size", "drop_reference_image", "drop_reference_net",
        "drop_pose"}``.
    """
    return TrainingLayout.from_train_config(config).to_dict()


def read_training_layout(root: str | os.PathLike[str]) -> dict[str, Any] | None:
    """``root/training_layout.json`` checked (:class:`~hvg_model.training_layout.TrainingLayout`).

    Returns:
        The record as a dict, or None when the file is absent.

    Raises:
        InputError: The file is not JSON, has a newer version or an unknown key, or
            ``stage``/``views_frames`` are malformed.
    """
    layout = TrainingLayout.read(root)
    return None if layout is None else layout.to_dict()


def _disable(show_progress: bool | None) -> bool | None:
    return None if show_progress is None else not show_progress


def _views_and_frames(
    batch: int,
    pose_maps: torch.Tensor | None,
    rotations: torch.Tensor | None,
    num_views: int | None,
    num_frames: int | None,
    height: int,
    width: int,
) -> tuple[int, int]:
    views, frames = num_views, num_frames
    if pose_maps is not None:
        if (
            pose_maps.ndim != 6
            or pose_maps.shape[0] != batch
            or pose_maps.shape[-2:] != (height, width)
        ):
            raise InputError(
                f"pose_maps must have shape (B, V, T, C_pose, H, W) = ({batch}, V, T, C, {height}, "
                f"{width}), got {tuple(pose_maps.shape)}",
                field="pose_maps",
            )
        views, frames = int(pose_maps.shape[1]), int(pose_maps.shape[2])
    if rotations is not None:
        if rotations.ndim != 4 or rotations.shape[0] != batch or rotations.shape[-2:] != (3, 3):
            raise InputError(
                f"rotations must have shape (B, V, 3, 3), got {tuple(rotations.shape)}",
                field="rotations",
            )
        if views is not None and rotations.shape[1] != views:
            raise InputError(
                f"rotations have {rotations.shape[1]} views, pose_maps {views}", field="rotations"
            )
        views = int(rotations.shape[1])
    if views is None or frames is None:
        raise InputError("give pose_maps, or num_views/rotations and num_frames", field="pose_maps")
    return views, frames
