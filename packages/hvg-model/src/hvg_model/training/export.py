"""Turn a training run (or one of its checkpoints) into an :class:`~hvg_model.HVGPipeline`.

The trainer writes ``checkpoints/step-N/model.safetensors`` (the trainable module: DenoisingNet
and ReferenceNet) and, with EMA on, ``ema.safetensors``; the frozen VAE and CLIP encoder stay in
the run's SVD-xt directory (the VAE in ``model.vae_dir`` when the run was given one with
``--vae``). ``export_pipeline`` puts them back together in the layout that
``HVGPipeline.from_pretrained`` and ``hvg-model generate --model`` read: its ``vae/`` is the
VAE the run trained with, so generation decodes with it.
"""

from __future__ import annotations

from pathlib import Path

from hvg_core.errors import InputError
from safetensors.torch import load_file

from hvg_model.training import checkpoint as ckpt
from hvg_model.training.run import CONFIG_FILE

EMA_COUNTER_KEY = "__num_updates__"


def _run_dir_of(checkpoint: Path) -> Path:
    # checkpoints live in RUN/checkpoints/step-N/
    return checkpoint.parent.parent


def load_trained_pipeline(run_or_checkpoint: str | Path, *, use_ema: bool = True):
    """An :class:`~hvg_model.HVGPipeline` with the weights of a run's latest (or given) checkpoint.

    Args:
        run_or_checkpoint: A run directory (its latest checkpoint is used) or a checkpoint.
        use_ema: Use the EMA weights when the checkpoint has them.

    Raises:
        MissingResourceError: No checkpoint, or the run's SVD (or VAE) directory is gone.
        InputError: The run's config is unreadable or describes a plain SVD UNet (no HVG
            network to put in a pipeline).
    """
    from hvg_model.loading import load_frozen_components
    from hvg_model.pipeline import HVGPipeline, training_layout_from_config
    from hvg_model.training.config import load_config
    from hvg_model.training.worker_setup import build_trainable

    checkpoint = ckpt.resolve_resume(run_or_checkpoint)
    run_dir = _run_dir_of(checkpoint)
    config = load_config(str(run_dir / CONFIG_FILE))
    if config.model.architecture != "hvg":
        raise InputError(
            "this run trained a plain SVD UNet (model.architecture = 'svd'); only HVG "
            "networks export to an HVG pipeline",
            path=run_dir / CONFIG_FILE,
            field="model.architecture",
        )
    svd_dir = str(config.model.svd_dir)
    module = build_trainable(config, svd_dir)
    state = load_file(checkpoint / "model.safetensors")
    ema_path = checkpoint / "ema.safetensors"
    if use_ema and ema_path.is_file():
        averages = load_file(ema_path)
        averages.pop(EMA_COUNTER_KEY, None)
        state.update({name: value.to(state[name].dtype) for name, value in averages.items()})
    module.load_state_dict(state)
    frozen = load_frozen_components(svd_dir, vae_dir=config.model.vae_dir)
    return HVGPipeline(
        module.net,
        module.reference_net,
        frozen.vae,
        frozen.image_encoder,
        frozen.feature_extractor,
        frozen.scheduler,
        training_layout=training_layout_from_config(config),
    )


def export_pipeline(
    run_or_checkpoint: str | Path, out: str | Path, *, use_ema: bool = True
) -> Path:
    """Write the pipeline of a run's checkpoint to ``out`` (``HVGPipeline.save_pretrained``).

    Returns:
        ``out``.
    """
    pipeline = load_trained_pipeline(run_or_checkpoint, use_ema=use_ema)
    return pipeline.save_pretrained(out)
