"""HVGDenoisingNet: SVD-xt's UNet with view attention, pose modulator, reference and camera inputs.

The network is diffusers' ``UNetSpatioTemporalConditionModel`` with views folded into its batch
(``B·V`` rows of ``T`` frames). Every addition is zero-initialised (view-attention output, pose
modulator output convolution, camera linear, reference gates), so with SVD's arguments alone, or
with several views and zero pose maps, it returns SVD's output: ``tests/test_exactness.py``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import torch
from diffusers.configuration_utils import register_to_config
from diffusers.models.unets.unet_spatio_temporal_condition import (
    UNetSpatioTemporalConditionModel,
    UNetSpatioTemporalConditionOutput,
)
from hvg_core.errors import InputError
from torch import nn

from hvg_model.embeddings import CameraEmbedding
from hvg_model.pose_modulator import PoseModulator
from hvg_model.transformer import CallContext, HVGTransformerSpatioTemporal

HVG_CONFIG_VERSION = 1

# Parameter-name fragments of the modules HVG adds to SVD; every other key comes from SVD-xt.
NEW_PARAMETER_MARKERS = (
    "pose_modulator.",
    "camera_embedding.",
    ".view_attention_blocks.",
    ".reference_gates",
)


def is_new_parameter(name: str) -> bool:
    """Whether a state-dict key belongs to a module HVG adds to SVD."""
    return any(marker in name or name.startswith(marker) for marker in NEW_PARAMETER_MARKERS)


def adopt_transformers(
    model: nn.Module, *, view_attention: bool, reference_prefixes: tuple[str, ...]
) -> list[HVGTransformerSpatioTemporal]:
    """Turn every SVD transformer of ``model`` into an HVG transformer (in place).

    Args:
        model: A UNet (or ReferenceNet) built from diffusers' spatio-temporal blocks.
        view_attention: Add view attention to every transformer.
        reference_prefixes: Module-path prefixes whose transformers get reference gates
            (``("down_blocks", "mid_block")`` for the DenoisingNet, as in the paper).
    """
    from diffusers.models.transformers.transformer_temporal import TransformerSpatioTemporalModel

    adopted = []
    for name, module in list(model.named_modules()):
        if isinstance(module, TransformerSpatioTemporalModel):
            adopted.append(
                HVGTransformerSpatioTemporal.adopt(
                    module,
                    layer_name=name,
                    view_attention=view_attention,
                    reference_attention=name.startswith(reference_prefixes),
                )
            )
    return adopted


def hvg_transformers(model: nn.Module) -> Iterator[HVGTransformerSpatioTemporal]:
    """The HVG transformers of a network, in module order."""
    for module in model.modules():
        if isinstance(module, HVGTransformerSpatioTemporal):
            yield module


@contextlib.contextmanager
def call_context(model: nn.Module, context: CallContext) -> Iterator[CallContext]:
    """Give every HVG transformer of ``model`` the side inputs of one call."""
    transformers = list(hvg_transformers(model))
    for transformer in transformers:
        transformer.call_context = context
    try:
        yield context
    finally:
        for transformer in transformers:
            transformer.call_context = None


class HVGDenoisingNet(UNetSpatioTemporalConditionModel):
    """HVG's DenoisingNet (paper §3.2) on diffusers' SVD UNet.

    The first arguments are ``UNetSpatioTemporalConditionModel``'s (defaults = SVD-xt); the
    HVG ones follow.

    Args:
        use_view_attention: Per-pixel view attention after every spatial block.
        pose_signal: Pose modulator input, an ``hvg_bonemap`` pose-signal name: ``"bonemap"``
            (depth + normal, the paper), or a Table 3 ablation: ``"depth"``, ``"normal"``,
            ``"skeleton2d"``, ``"body_normal"``; None for no pose modulator.
        pose_spec: The ``hvg_bonemap.PoseSpec`` (as a dict) of the pose input; default: the
            registered ``pose_signal``'s spec. Saved with the config, so that inference makes
            the pose input the network was trained on.
        pose_guider_channels: Output channels of each guider's four convolutions.
        pose_guider_strides: Their strides; the product must equal the VAE factor (8 for
            SVD-xt). ``from_svd`` derives them from the VAE
            (:func:`hvg_model.pose_modulator.guider_strides_for`).
        pose_fusion_heads: Heads of the guider-fusion cross-attention.
        use_camera_embedding: Add the relative-rotation camera embedding to the time embedding.
        camera_frequencies: Sinusoid frequencies per rotation entry.
        use_reference_attention: Gated reference attention in the down and mid blocks.
        hvg_config_version: Version of this configuration schema.
    """

    @register_to_config
    def __init__(
        self,
        sample_size: int | None = None,
        in_channels: int = 8,
        out_channels: int = 4,
        down_block_types: tuple[str, ...] = (
            "CrossAttnDownBlockSpatioTemporal",
            "CrossAttnDownBlockSpatioTemporal",
            "CrossAttnDownBlockSpatioTemporal",
            "DownBlockSpatioTemporal",
        ),
        up_block_types: tuple[str, ...] = (
            "UpBlockSpatioTemporal",
            "CrossAttnUpBlockSpatioTemporal",
            "CrossAttnUpBlockSpatioTemporal",
            "CrossAttnUpBlockSpatioTemporal",
        ),
        block_out_channels: tuple[int, ...] = (320, 640, 1280, 1280),
        addition_time_embed_dim: int = 256,
        projection_class_embeddings_input_dim: int = 768,
        layers_per_block: int | tuple[int, ...] = 2,
        cross_attention_dim: int | tuple[int, ...] = 1024,
        transformer_layers_per_block: int | tuple[int, ...] = 1,
        num_attention_heads: int | tuple[int, ...] = (5, 10, 20, 20),
        num_frames: int = 25,
        use_view_attention: bool = True,
        pose_signal: str | None = "bonemap",
        pose_spec: dict[str, Any] | None = None,
        pose_guider_channels: tuple[int, ...] = (16, 32, 64, 128),
        pose_guider_strides: tuple[int, ...] = (2, 2, 2, 1),
        pose_fusion_heads: int = 4,
        use_camera_embedding: bool = True,
        camera_frequencies: int = 8,
        use_reference_attention: bool = True,
        hvg_config_version: int = HVG_CONFIG_VERSION,
    ) -> None:
        super().__init__(
            sample_size=sample_size,
            in_channels=in_channels,
            out_channels=out_channels,
            down_block_types=tuple(down_block_types),
            up_block_types=tuple(up_block_types),
            block_out_channels=tuple(block_out_channels),
            addition_time_embed_dim=addition_time_embed_dim,
            projection_class_embeddings_input_dim=projection_class_embeddings_input_dim,
            layers_per_block=_tuple_or_int(layers_per_block),
            cross_attention_dim=_tuple_or_int(cross_attention_dim),
            transformer_layers_per_block=_tuple_or_int(transformer_layers_per_block),
            num_attention_heads=_tuple_or_int(num_attention_heads),
            num_frames=num_frames,
        )
        if hvg_config_version > HVG_CONFIG_VERSION:
            raise InputError(
                f"hvg_config_version {hvg_config_version} is newer than this hvg-model "
                f"understands ({HVG_CONFIG_VERSION}); upgrade hvg-model",
                field="hvg_config_version",
            )
        adopt_transformers(
            self,
            view_attention=use_view_attention,
            reference_prefixes=("down_blocks", "mid_block") if use_reference_attention else (),
        )
        time_embed_dim = block_out_channels[0] * 4
        self.pose_modulator = (
            PoseModulator(
                pose_spec or pose_signal,
                block_out_channels[0],
                tuple(pose_guider_channels),
                tuple(pose_guider_strides),
                pose_fusion_heads,
            )
            if pose_signal is not None
            else None
        )
        self.camera_embedding = (
            CameraEmbedding(time_embed_dim, camera_frequencies) if use_camera_embedding else None
        )

    # ------------------------------------------------------------------ construction

    @classmethod
    def tiny(cls, **overrides: Any) -> HVGDenoisingNet:
        """A ~1.5 M-parameter random network for CPU tests (see ``hvg_model.configs``)."""
        from hvg_model.configs import tiny_unet_config

        return cls(**{**tiny_unet_config(), **overrides})

    @classmethod
    def from_svd_unet(
        cls, unet: UNetSpatioTemporalConditionModel, **hvg_options: Any
    ) -> HVGDenoisingNet:
        """Build the extended network around a loaded SVD UNet's weights.

        Args:
            unet: A ``UNetSpatioTemporalConditionModel`` (SVD-xt, or a tiny one in tests).
            **hvg_options: HVG arguments of :class:`HVGDenoisingNet` (e.g. ``pose_signal``).

        Raises:
            ValueError: The UNet's weights do not fit (an unexpected key, or a missing key
                that is not one of HVG's new modules).
        """
        config = {key: value for key, value in unet.config.items() if not key.startswith("_")}
        # Built on the meta device: SVD's 1.5 B weights are copied in, not randomly
        # initialised first; only HVG's new modules are materialised and initialised.
        with torch.device("meta"):
            net = cls(**config, **hvg_options)
        load_svd_weights(net, unet.state_dict(), assign=True)
        reference = next(unet.parameters())
        materialise_new_modules(net, device=reference.device)
        if reference.dtype != torch.float32:
            net.to(reference.dtype)
        return net

    @classmethod
    def from_svd(cls, path: str, **hvg_options: Any) -> HVGDenoisingNet:
        """Read the ``unet`` of a local diffusers-format SVD-xt directory and extend it.

        Args:
            path: Directory with ``unet/``, ``vae/``, ``image_encoder/``, ``feature_extractor/``
                and ``scheduler/`` (the layout of ``stabilityai/stable-video-diffusion-img2vid-xt``).
            **hvg_options: HVG arguments of :class:`HVGDenoisingNet`.

        Raises:
            MissingResourceError: The directory or one of its components is missing.
        """
        from hvg_model.loading import load_svd_unet, vae_scale_factor
        from hvg_model.pose_modulator import guider_strides_for

        unet = load_svd_unet(path)  # checks the whole directory first
        hvg_options.setdefault("pose_guider_strides", guider_strides_for(vae_scale_factor(path)))
        return cls.from_svd_unet(unet, **hvg_options)

    # ------------------------------------------------------------------ forward

    # Copied from diffusers: UNetSpatioTemporalConditionModel.forward
    # (diffusers.models.unets.unet_spatio_temporal_condition), with views folded into the batch
    # and the pose, camera and reference-feature terms added.
    def forward(  # type: ignore[override]
        self,
        sample: torch.Tensor,
        timestep: torch.Tensor | float | int,
        encoder_hidden_states: torch.Tensor,
        added_time_ids: torch.Tensor,
        return_dict: bool = True,
        *,
        pose_maps: torch.Tensor | None = None,
        cameras: torch.Tensor | None = None,
        num_views: int = 1,
        reference_features: Mapping[str, torch.Tensor] | None = None,
        image_only_indicator: torch.Tensor | None = None,
    ) -> UNetSpatioTemporalConditionOutput | tuple[torch.Tensor]:
        """Predict SVD's network output F for ``B·V`` rows of ``T`` frames.

        With only SVD's four arguments this is SVD's forward. The HVG inputs are optional and
        neutral when left out.

        Args:
            sample: ``(B·V, T, 8, h, w)``: ``c_in·x_σ`` concatenated with the conditioning-image
                latent (SVD layout), rows ordered (B, V).
            timestep: EDM ``c_noise = 0.25·ln σ``: a float, a 0-d tensor or ``(B·V,)``.
            encoder_hidden_states: CLIP image embedding ``(B·V, 1, D)`` (or ``(B, 1, D)``,
                repeated over views).
            added_time_ids: ``(B·V, 3)`` (or ``(B, 3)``): fps − 1, motion bucket, noise aug.
            return_dict: Return ``UNetSpatioTemporalConditionOutput`` (else a tuple).
            pose_maps: ``(B·V, T, C_pose, 8h, 8w)`` pose maps at image resolution in [0, 1], as
                ``hvg_bonemap``'s pose signals give them (bonemap: depth code, then normal
                code); see ``hvg_model.pose_input``. None: no pose residual.
            cameras: Rotations relative to the reference view, ``(B·V, 3, 3)`` or
                ``(B·V, T, 3, 3)`` (``hvg_model.embeddings.relative_rotations``). None: no
                camera embedding.
            num_views: V, the number of views folded into the batch (for view attention).
            reference_features: ReferenceNet bank ``{layer key: (B, S, C)}`` from
                ``HVGReferenceNet``; None: no reference attention.
            image_only_indicator: ``(B·V, T)``; 1 turns temporal mixing off for that frame
                (stage-1 multi-view batches with T = 1). Default zeros, as SVD.

        Returns:
            ``sample`` of shape ``(B·V, T, 4, h, w)``: the raw network output F; the EDM
            denoiser is ``c_skip·x_σ + c_out·F``.
        """
        sample = _check_sample(sample, self.config.in_channels, num_views)
        rows, num_frames = sample.shape[:2]
        encoder_hidden_states = _repeat_rows(
            encoder_hidden_states, rows, num_views, "encoder_hidden_states", 3
        )
        added_time_ids = _repeat_rows(added_time_ids, rows, num_views, "added_time_ids", 2)

        default_overall_up_factor = 2**self.num_upsamplers
        forward_upsample_size = any(s % default_overall_up_factor != 0 for s in sample.shape[-2:])
        upsample_size = None

        timesteps = timestep
        if not torch.is_tensor(timesteps):
            dtype = torch.float64 if isinstance(timestep, float) else torch.int64
            if sample.device.type == "mps":
                dtype = torch.float32 if dtype == torch.float64 else torch.int32
            timesteps = torch.tensor([timesteps], dtype=dtype, device=sample.device)
        elif timesteps.ndim == 0:
            timesteps = timesteps[None].to(sample.device)
        timesteps = timesteps.to(sample.device).expand(rows)

        t_emb = self.time_proj(timesteps).to(dtype=sample.dtype)
        emb = self.time_embedding(t_emb)
        time_embeds = self.add_time_proj(added_time_ids.flatten()).reshape((rows, -1))
        emb = emb + self.add_embedding(time_embeds.to(emb.dtype))

        sample = sample.flatten(0, 1)
        emb = emb.repeat_interleave(num_frames, dim=0, output_size=emb.shape[0] * num_frames)
        if cameras is not None and self.camera_embedding is not None:
            emb = emb + self._camera_term(cameras, rows, num_frames).to(emb.dtype)
        encoder_hidden_states = encoder_hidden_states.repeat_interleave(
            num_frames, dim=0, output_size=rows * num_frames
        )

        sample = self.conv_in(sample)
        if pose_maps is not None and self.pose_modulator is not None:
            sample = sample + self._pose_term(pose_maps, rows, num_frames, sample.shape[-2:])

        if image_only_indicator is None:
            image_only_indicator = torch.zeros(
                rows, num_frames, dtype=sample.dtype, device=sample.device
            )
        elif image_only_indicator.shape != (rows, num_frames):
            raise ValueError(
                f"image_only_indicator must have shape (B·V, T) = {(rows, num_frames)}, "
                f"got {tuple(image_only_indicator.shape)}"
            )
        image_only_indicator = image_only_indicator.to(dtype=sample.dtype, device=sample.device)

        context = CallContext(
            num_views=num_views,
            reference_features=dict(reference_features) if reference_features else None,
        )
        if context.reference_features is not None:
            _check_reference_keys(context, self)
        with call_context(self, context):
            down_block_res_samples: tuple[torch.Tensor, ...] = (sample,)
            for down_block in self.down_blocks:
                kwargs: dict[str, Any] = {"image_only_indicator": image_only_indicator}
                if getattr(down_block, "has_cross_attention", False):
                    kwargs["encoder_hidden_states"] = encoder_hidden_states
                sample, res_samples = down_block(hidden_states=sample, temb=emb, **kwargs)
                down_block_res_samples += res_samples

            sample = self.mid_block(
                hidden_states=sample,
                temb=emb,
                encoder_hidden_states=encoder_hidden_states,
                image_only_indicator=image_only_indicator,
            )

            for index, up_block in enumerate(self.up_blocks):
                is_final_block = index == len(self.up_blocks) - 1
                res_samples = down_block_res_samples[-len(up_block.resnets) :]
                down_block_res_samples = down_block_res_samples[: -len(up_block.resnets)]
                if not is_final_block and forward_upsample_size:
                    upsample_size = down_block_res_samples[-1].shape[2:]
                kwargs = {
                    "image_only_indicator": image_only_indicator,
                    "upsample_size": upsample_size,
                }
                if getattr(up_block, "has_cross_attention", False):
                    kwargs["encoder_hidden_states"] = encoder_hidden_states
                sample = up_block(
                    hidden_states=sample, temb=emb, res_hidden_states_tuple=res_samples, **kwargs
                )

        sample = self.conv_out(self.conv_act(self.conv_norm_out(sample)))
        sample = sample.reshape(rows, num_frames, *sample.shape[1:])
        if not return_dict:
            return (sample,)
        return UNetSpatioTemporalConditionOutput(sample=sample)

    def _camera_term(self, cameras: torch.Tensor, rows: int, num_frames: int) -> torch.Tensor:
        assert self.camera_embedding is not None
        if cameras.shape not in {(rows, 3, 3), (rows, num_frames, 3, 3)}:
            raise ValueError(
                f"cameras must have shape (B·V, 3, 3) = {(rows, 3, 3)} or (B·V, T, 3, 3) = "
                f"{(rows, num_frames, 3, 3)}, got {tuple(cameras.shape)}"
            )
        embedded = self.camera_embedding(cameras.to(self.device))
        if embedded.ndim == 2:
            return embedded.repeat_interleave(num_frames, dim=0)
        return embedded.flatten(0, 1)

    def _pose_term(
        self,
        pose_maps: torch.Tensor,
        rows: int,
        num_frames: int,
        latent_size: torch.Size,
    ) -> torch.Tensor:
        assert self.pose_modulator is not None
        scale = self.pose_modulator.downscale
        expected = (
            rows,
            num_frames,
            self.pose_modulator.in_channels,
            latent_size[0] * scale,
            latent_size[1] * scale,
        )
        if tuple(pose_maps.shape) != expected:
            raise ValueError(
                f"pose_maps must have shape (B·V, T, C_pose, {scale}h, {scale}w) = {expected} "
                f"for pose_signal {self.pose_modulator.pose_signal!r}, got {tuple(pose_maps.shape)}"
            )
        weight = self.conv_in.weight
        return self.pose_modulator(pose_maps.flatten(0, 1).to(weight.device, weight.dtype))

    def reference_layer_keys(self) -> list[str]:
        """Bank keys this network reads (the down and mid transformers' spatial layers)."""
        return [
            key
            for transformer in hvg_transformers(self)
            if transformer.reference_gates is not None
            for key in transformer.layer_keys()
        ]


def load_svd_weights(
    net: nn.Module, state_dict: Mapping[str, torch.Tensor], *, assign: bool = False
) -> None:
    """Load SVD weights into an HVG network, asserting that only HVG's new modules are missing.

    Args:
        net: The HVG network.
        state_dict: An SVD UNet state dict.
        assign: Assign copies of the tensors (for a network built on the meta device).

    Raises:
        ValueError: Listing unexpected keys, or missing keys that are not new HVG modules.
    """
    weights = {key: value.clone() if assign else value for key, value in state_dict.items()}
    missing, unexpected = net.load_state_dict(weights, strict=False, assign=assign)
    not_new = [key for key in missing if not is_new_parameter(key)]
    if unexpected or not_new:
        raise InputError(
            "the SVD UNet weights do not fit the HVG network: "
            f"unexpected keys {unexpected[:5]}{'…' if len(unexpected) > 5 else ''}, "
            f"missing SVD keys {not_new[:5]}{'…' if len(not_new) > 5 else ''}",
            field="unet",
        )


def materialise_new_modules(net: nn.Module, *, device: torch.device | str) -> None:
    """Allocate and initialise the parameters still on the meta device (HVG's new modules).

    Each module owning meta tensors is allocated on ``device`` and reset with its own
    ``reset_parameters``; then the output layers and gates are zeroed again, so the network
    equals SVD exactly, as when built directly.
    """
    for module in net.modules():
        own = [*module.parameters(recurse=False), *module.buffers(recurse=False)]
        if any(tensor.is_meta for tensor in own):
            module.to_empty(device=device, recurse=False)
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
    zero_initialise_new_modules(net)
    tensors = [*net.named_parameters(), *net.named_buffers()]
    still_meta = [name for name, tensor in tensors if tensor.is_meta]
    if still_meta:
        raise RuntimeError(f"parameters left on the meta device: {still_meta[:5]}")


def zero_initialise_new_modules(net: nn.Module) -> None:
    """Zero the output layers of HVG's additions and the reference gates (SVD at init)."""
    from hvg_model.view_attention import ViewAttention

    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, ViewAttention):
                module.to_out.weight.zero_()
                module.to_out.bias.zero_()
            elif isinstance(module, PoseModulator):
                module.conv_out.weight.zero_()
                module.conv_out.bias.zero_()  # pyright: ignore[reportOptionalMemberAccess]
            elif isinstance(module, CameraEmbedding):
                module.linear.weight.zero_()
                module.linear.bias.zero_()  # pyright: ignore[reportOptionalMemberAccess]
            elif (
                isinstance(module, HVGTransformerSpatioTemporal)
                and module.reference_gates is not None
            ):
                module.reference_gates.zero_()


def _tuple_or_int(value: Any) -> Any:
    return tuple(value) if isinstance(value, list | tuple) else value


def _check_sample(sample: torch.Tensor, in_channels: int, num_views: int) -> torch.Tensor:
    if sample.ndim != 5 or sample.shape[2] != in_channels:
        raise ValueError(
            f"sample must have shape (B·V, T, {in_channels}, h, w), got {tuple(sample.shape)}"
        )
    if num_views < 1 or sample.shape[0] % num_views != 0:
        raise ValueError(
            f"num_views must divide the batch of sample (B·V = {sample.shape[0]}), got {num_views}"
        )
    return sample


def _repeat_rows(
    tensor: torch.Tensor, rows: int, num_views: int, name: str, ndim: int
) -> torch.Tensor:
    if tensor.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {tuple(tensor.shape)}")
    if tensor.shape[0] == rows:
        return tensor
    if tensor.shape[0] * num_views == rows:
        return tensor.repeat_interleave(num_views, dim=0)
    raise ValueError(
        f"{name} must have B·V = {rows} (or B = {rows // num_views}) rows, "
        f"got {tuple(tensor.shape)}"
    )


def _check_reference_keys(context: CallContext, net: HVGDenoisingNet) -> None:
    assert context.reference_features is not None
    given = set(context.reference_features)
    expected = set(net.reference_layer_keys())
    if given != expected:
        raise ValueError(
            "reference_features keys do not match the network's reference layers: "
            f"missing {sorted(expected - given)[:4]}, unknown {sorted(given - expected)[:4]}"
        )
