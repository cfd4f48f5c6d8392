"""GPU memory plan of training: parameters, gradients, optimiser state, EMA and activations.

Everything is computed on PyTorch's meta device, so the full-size networks (1.5 B + 0.63 B
parameters) are "built" and "run" without memory or time:

- parameter counts: the networks constructed on ``meta``;
- activations: one training forward on ``meta`` tensors of the real shapes, adding up the bytes
  autograd saves for backward (``saved_tensors_hooks``), each storage once, parameters excluded.
  Attention is accounted as a fused kernel (flash / memory-efficient SDPA, what runs on H100s),
  which saves q, k, v, the output and the log-sum-exp instead of the ``S × S`` probabilities.
  With gradient checkpointing, a checkpointed region keeps only its inputs.

Measured in fp32. Under bf16 autocast, matmul and convolution outputs are stored in bf16 while
normalisation statistics and the loss stay fp32, so the plan estimates activations as half
the fp32 figure (documented as an estimate). The transient recompute of one checkpointed block
during backward and allocator fragmentation come on top; :func:`check_fits` keeps 15 % headroom.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from hvg_core.errors import InputError
from torch import Tensor, nn

GIB = 2**30
#: Fraction of GPU memory the plan may fill (fragmentation, CUDA context, recompute peaks).
USABLE_FRACTION = 0.85


class _FusedAttention(torch.autograd.Function):
    """Shape-only SDPA that saves what a flash kernel saves (q, k, v, out, logsumexp)."""

    @staticmethod
    def forward(ctx: Any, query: Tensor, key: Tensor, value: Tensor) -> Tensor:
        out = query.new_empty((*query.shape[:-1], value.shape[-1]))
        logsumexp = query.new_empty(query.shape[:-1], dtype=torch.float32)
        ctx.save_for_backward(query, key, value, out, logsumexp)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor, Tensor]:  # pragma: no cover
        query, key, value, _, _ = ctx.saved_tensors
        return torch.zeros_like(query), torch.zeros_like(key), torch.zeros_like(value)


def _fused_sdpa(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    return _FusedAttention.apply(query, key, value)


@contextlib.contextmanager
def _fused_attention_accounting() -> Iterator[None]:
    import torch.nn.functional as F

    original = F.scaled_dot_product_attention
    F.scaled_dot_product_attention = _fused_sdpa
    try:
        yield
    finally:
        F.scaled_dot_product_attention = original


class _SavedBytes:
    """Counts bytes saved for backward, each storage once, parameters excluded."""

    def __init__(self, parameters: set[int]) -> None:
        self.parameters = parameters
        self.seen: dict[int, Tensor] = {}
        self.total = 0

    def add(self, tensor: Tensor) -> None:
        base = tensor._base if tensor._base is not None else tensor
        if id(base) in self.parameters or id(tensor) in self.parameters or id(base) in self.seen:
            return
        self.seen[id(base)] = base  # kept alive so that ids are not reused
        self.total += base.numel() * base.element_size()

    def pack(self, tensor: Tensor) -> Tensor:
        self.add(tensor)
        return tensor

    def checkpoint_function(self) -> Callable[..., Any]:
        def checkpointed(module: Callable[..., Any], *args: Any) -> Any:
            for arg in args:
                if isinstance(arg, Tensor):
                    self.add(arg)
            return torch.utils.checkpoint.checkpoint(module, *args, use_reentrant=False)

        return checkpointed


def full_size_networks(pose_signal: str = "bonemap") -> tuple[nn.Module, nn.Module]:
    """SVD-xt-sized HVGDenoisingNet and HVGReferenceNet on the meta device."""
    from hvg_model.configs import svd_xt_unet_config
    from hvg_model.denoising_net import HVGDenoisingNet
    from hvg_model.reference_net import HVGReferenceNet

    config = svd_xt_unet_config(pose_signal=pose_signal)
    with torch.device("meta"):
        net = HVGDenoisingNet(**config)
        reference = HVGReferenceNet(**{k: v for k, v in svd_xt_unet_config().items()})
    # Some diffusers parameters are created with legacy constructors that ignore the default device.
    return net.to("meta"), reference.to("meta")


def parameter_counts(pose_signal: str = "bonemap") -> dict[str, int]:
    """Parameter counts of the full-size networks (meta device).

    Returns:
        ``svd_unet`` (SVD-xt's UNet), ``denoising_net`` (with HVG's modules), ``hvg_new`` (the
        modules HVG adds), ``reference_net``, and ``trainable`` (DenoisingNet + the ReferenceNet
        parameters that reach the bank).
    """
    from diffusers import UNetSpatioTemporalConditionModel

    from hvg_model.configs import svd_xt_unet_config
    from hvg_model.denoising_net import is_new_parameter

    with torch.device("meta"):
        unet = UNetSpatioTemporalConditionModel(**svd_xt_unet_config())
    net, reference = full_size_networks(pose_signal)
    reachable = sum(p.numel() for p in reference.trainable_parameters())
    return {
        "svd_unet": sum(p.numel() for p in unet.parameters()),
        "denoising_net": sum(p.numel() for p in net.parameters()),
        "hvg_new": sum(p.numel() for n, p in net.named_parameters() if is_new_parameter(n)),
        "reference_net": sum(p.numel() for p in reference.parameters()),
        "trainable": sum(p.numel() for p in net.parameters()) + reachable,
    }


def activation_bytes(
    net: nn.Module,
    reference: nn.Module | None,
    *,
    batch: int,
    views: int,
    frames: int,
    image_size: int,
    checkpointing: bool,
    vae_factor: int = 8,
    clip_dim: int | None = None,
) -> int:
    """Bytes autograd keeps for backward in one training forward (fp32, fused attention).

    Args:
        net: HVGDenoisingNet (a module off the meta device is copied onto it first).
        reference: HVGReferenceNet or None.
        batch: Samples B per GPU.
        views: V.
        frames: T.
        image_size: Image side H = W in pixels.
        checkpointing: Gradient checkpointing on.
        vae_factor: Image pixels per latent pixel.
        clip_dim: CLIP embedding width (default: the net's cross-attention width).
    """
    net, reference = (_on_meta(m) if m is not None else None for m in (net, reference))  # pyright: ignore[reportAssignmentType]
    modules = [m for m in (net, reference) if m is not None]
    parameters = {id(p) for m in modules for p in m.parameters()}
    counter = _SavedBytes(parameters)
    for module in modules:
        if checkpointing:
            module.enable_gradient_checkpointing(
                gradient_checkpointing_func=counter.checkpoint_function()
            )
        else:
            module.disable_gradient_checkpointing()
        module.train()
    rows, latent = batch * views, image_size // vae_factor
    cross = clip_dim or _first(net.config.cross_attention_dim)
    pose_channels = net.pose_modulator.in_channels if getattr(net, "pose_modulator", None) else 0
    try:
        with (
            torch.device("meta"),
            _fused_attention_accounting(),
            torch.autograd.graph.saved_tensors_hooks(counter.pack, lambda t: t),
        ):
            features = None
            if reference is not None:
                features = reference(
                    torch.randn(batch, 4, latent, latent),
                    torch.randn(batch, 1, cross),
                    torch.randn(batch, 3),
                )
            kwargs: dict[str, Any] = {"num_views": views, "reference_features": features}
            if pose_channels:
                kwargs["pose_maps"] = torch.randn(
                    rows, frames, pose_channels, image_size, image_size
                )
            if frames == 1:
                kwargs["image_only_indicator"] = torch.ones(rows, frames)
            output = net(
                torch.randn(rows, frames, 8, latent, latent),
                torch.ones(rows),
                torch.randn(rows, 1, cross),
                torch.randn(rows, 3),
                cameras=torch.randn(rows, 3, 3),
                **kwargs,
            ).sample
            counter.add(output)
    finally:
        for module in modules:
            module.disable_gradient_checkpointing()
    return counter.total


def _on_meta(module: nn.Module) -> nn.Module:
    if all(p.device.type == "meta" for p in module.parameters()):
        return module
    import copy

    return copy.deepcopy(module).to("meta")


def _first(value: Any) -> int:
    return int(value[0] if isinstance(value, list | tuple) else value)


@dataclass
class MemoryRow:
    """One setting of the plan, bytes per GPU.

    Attributes:
        setting: Human-readable name.
        parameters: Model weights (fp32 master copy, + frozen VAE/CLIP).
        gradients: fp32 gradients of the trainable weights.
        optimizer: AdamW moments (8 B/param fp32, 2 B/param 8-bit).
        ema: fp32 EMA copy of the trainable weights.
        activations: Saved activations (bf16 estimate).
    """

    setting: str
    parameters: float
    gradients: float
    optimizer: float
    ema: float
    activations: float

    @property
    def total(self) -> float:
        """Sum of all parts."""
        return self.parameters + self.gradients + self.optimizer + self.ema + self.activations


def plan_rows(
    *,
    trainable: int,
    frozen: int,
    activations_fp32: dict[bool, int],
    gpus: int,
) -> list[MemoryRow]:
    """The plan's settings: DDP / FSDP × checkpointing × AdamW precision (bytes per GPU)."""
    rows = []
    for strategy in ("DDP", f"FSDP ({gpus} GPUs)"):
        shard = gpus if strategy.startswith("FSDP") else 1
        for checkpointing in (False, True):
            for eight_bit in (False, True):
                rows.append(
                    MemoryRow(
                        setting=f"{strategy}, {'checkpointing' if checkpointing else 'no checkpointing'}, "
                        f"{'8-bit' if eight_bit else 'fp32'} AdamW",
                        parameters=(4 * trainable) / shard + 2 * frozen,
                        gradients=4 * trainable / shard,
                        optimizer=(2 if eight_bit else 8) * trainable / shard,
                        ema=4 * trainable / shard,
                        activations=activations_fp32[checkpointing] / 2,
                    )
                )
    return rows


def format_rows(rows: list[MemoryRow]) -> str:
    """A Markdown table of the rows in GiB."""
    lines = [
        "| setting | params | grads | AdamW | EMA | activations | total |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        values = [row.parameters, row.gradients, row.optimizer, row.ema, row.activations, row.total]
        lines.append(f"| {row.setting} | " + " | ".join(f"{v / GIB:.1f}" for v in values) + " |")
    return "\n".join(lines)


def estimate_for_config(config: Any) -> MemoryRow:
    """Bytes per GPU of a full-size config as it would run (its strategy, checkpointing, AdamW).

    Uses the config's largest (views, frames) layout and its per-GPU batch.
    """
    from hvg_model.training.config import per_worker_batch

    net, reference = full_size_networks(config.model.variant)
    if not config.model.reference_net:
        reference = None
    layouts = config.data.views_frames or [[config.data.views, config.data.frames]]
    views, frames = max(layouts, key=lambda layout: layout[0])
    activations = activation_bytes(
        net,
        reference,
        batch=per_worker_batch(config),
        views=views,
        frames=frames,
        image_size=config.data.image_size,
        checkpointing=config.model.gradient_checkpointing,
    )
    counts = parameter_counts(config.model.variant)
    trainable = counts["trainable"] if reference is not None else counts["denoising_net"]
    shard = config.distributed.num_workers if config.distributed.strategy == "fsdp" else 1
    import importlib.util

    eight_bit = (
        config.optim.use_8bit != "no" and importlib.util.find_spec("bitsandbytes") is not None
    )
    frozen = 98_000_000 + 632_000_000  # SVD's temporal VAE and CLIP ViT-H/14 (research model.md §6)
    return MemoryRow(
        setting=config.name,
        parameters=4 * trainable / shard + 2 * frozen,
        gradients=4 * trainable / shard,
        optimizer=(2 if eight_bit else 8) * trainable / shard,
        ema=(4 * trainable / shard) if config.optim.ema_decay > 0 else 0.0,
        activations=activations / 2,
    )


def check_fits(config: Any) -> MemoryRow:
    """Raise if a GPU config's plan exceeds the GPU's memory (``distributed.gpu_memory_gib``).

    Only the full-size architecture is planned; tiny configs (``model.tiny``) always fit.

    Raises:
        InputError: The estimate exceeds ``USABLE_FRACTION`` of the GPU memory; the message
            gives the breakdown and what to change.
    """
    memory = config.distributed.gpu_memory_gib
    if memory <= 0 and torch.cuda.is_available():
        memory = torch.cuda.get_device_properties(0).total_memory / GIB
    if config.model.tiny or memory <= 0:
        return MemoryRow(config.name, 0, 0, 0, 0, 0)
    row = estimate_for_config(config)
    if row.total > USABLE_FRACTION * memory * GIB:
        raise InputError(
            f"config {config.name!r} does not fit: estimated {row.total / GIB:.1f} GiB per GPU "
            f"(params {row.parameters / GIB:.1f}, grads {row.gradients / GIB:.1f}, AdamW "
            f"{row.optimizer / GIB:.1f}, EMA {row.ema / GIB:.1f}, activations "
            f"{row.activations / GIB:.1f}) against {USABLE_FRACTION:.0%} of {memory:.0f} GiB. "
            "Lower the per-GPU batch (more workers or optim.grad_accumulation), turn on "
            "model.gradient_checkpointing, use distributed.strategy=fsdp or install bitsandbytes.",
            field="schedule.global_batch_size",
        )
    return row


def plan_markdown(gpus: int = 32) -> str:
    """The README's memory plan: both paper stages, every setting, in GiB per GPU."""
    counts = parameter_counts()
    net, reference = full_size_networks()
    frozen = 98_000_000 + 632_000_000
    sections = [
        f"Parameters (meta device): SVD-xt UNet {counts['svd_unet']:,}; HVGDenoisingNet "
        f"{counts['denoising_net']:,} (HVG modules {counts['hvg_new']:,}); ReferenceNet "
        f"{counts['reference_net']:,}; trained {counts['trainable']:,}. Frozen VAE + CLIP "
        f"≈ {frozen / 1e6:.0f} M kept in bf16.",
    ]
    stages = [
        ("Stage 1: 2 samples × 48 views × 1 frame per GPU, 576²", 2, 48, 1),
        ("Stage 2: 1 sample × 8 views × 9 frames (72 images) per GPU, 576²", 1, 8, 9),
    ]
    for title, batch, views, frames in stages:
        activations = {
            checkpointing: activation_bytes(
                net,
                reference,
                batch=batch,
                views=views,
                frames=frames,
                image_size=576,
                checkpointing=checkpointing,
            )
            for checkpointing in (False, True)
        }
        sections.append(
            f"**{title}** — activations measured on meta in fp32: "
            f"{activations[False] / GIB:.1f} GiB without, {activations[True] / GIB:.1f} GiB with "
            f"checkpointing (tables: bf16 estimate = half).\n\n"
            + format_rows(
                plan_rows(
                    trainable=counts["trainable"],
                    frozen=frozen,
                    activations_fp32=activations,
                    gpus=gpus,
                )
            )
        )
    return "\n\n".join(sections)


if __name__ == "__main__":  # pragma: no cover - documentation helper
    print(plan_markdown())
