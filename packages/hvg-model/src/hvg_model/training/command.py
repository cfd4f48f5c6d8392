"""``hvg-model train``: the two-stage trainer's command line (click only at import time)."""

from __future__ import annotations

import click

_BUILTINS = ("tiny", "tiny-stage2", "stage1", "stage2")


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config_name",
    default="tiny",
    show_default=True,
    metavar="NAME_OR_FILE",
    help=f"Built-in recipe ({', '.join(_BUILTINS)}) or a TOML/YAML/JSON file (may set "
    "base = NAME and list only what differs).",
)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Run directory.")
@click.option("--max-steps", type=int, default=None, help="Optimiser steps in total.")
@click.option(
    "--resume",
    type=click.Path(file_okay=False),
    default=None,
    help="Continue from a checkpoint directory, or a run directory's newest checkpoint on its "
    "lineage (never one of a branch abandoned by resuming an older checkpoint).",
)
@click.option(
    "--resume-step",
    type=click.IntRange(0),
    default=None,
    help="Continue from this step's checkpoint of the --resume run (default: --out).",
)
@click.option(
    "--svd-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Local diffusers-format SVD-xt directory (unet/, vae/, image_encoder/, ...).",
)
@click.option(
    "--vae",
    "vae_dir",
    type=click.Path(),
    default=None,
    help="A diffusers AutoencoderKLTemporalDecoder directory (config.json + "
    "diffusion_pytorch_model.safetensors), e.g. the VAE `hvg demo` trained (out/demo/vae), "
    "used as the frozen VAE instead of the SVD directory's vae/ (model.vae_dir). The UNet must "
    "take its latent channels C (2·C in, C out); the exported pipeline's vae/ is this VAE.",
)
@click.option(
    "--data",
    type=click.Path(file_okay=False),
    default=None,
    help="hvg-data shard directory (with manifest.json). Default for 'tiny': synthetic "
    "subjects generated in memory.",
)
@click.option(
    "--smplx-model",
    type=click.Path(),
    default=None,
    help="Folder of the SMPL-X model files (SMPLX_NEUTRAL.npz, ...): needed by "
    "model.variant=body_normal, whose body mesh is rebuilt from the shards' SMPL-X parameters.",
)
@click.option(
    "--init-from",
    type=click.Path(),
    default=None,
    help="Stage-1 run/checkpoint whose weights start stage 2.",
)
@click.option("--batch-size", type=int, default=None, help="Global batch (samples per step).")
@click.option("--seed", type=int, default=None, help="Seed of data order and random draws.")
@click.option(
    "--num-workers", type=int, default=None, help="Training processes (Ray Train if > 1)."
)
@click.option("--use-gpu/--no-gpu", default=None, help="One GPU per worker.")
@click.option("--address", default=None, help="Existing Ray cluster address (default: local).")
@click.option(
    "--strategy",
    type=click.Choice(["ddp", "fsdp"]),
    default=None,
    help="Data parallelism across workers.",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="SECTION.FIELD=VALUE",
    help="Override any config field, e.g. --set optim.lr=3e-5 --set data.views=8 (repeatable).",
)
@click.option("--print-config", is_flag=True, help="Print the resolved config as JSON and exit.")
def train(
    config_name: str,
    out: str,
    max_steps: int | None,
    resume: str | None,
    resume_step: int | None,
    svd_dir: str | None,
    vae_dir: str | None,
    data: str | None,
    smplx_model: str | None,
    init_from: str | None,
    batch_size: int | None,
    seed: int | None,
    num_workers: int | None,
    use_gpu: bool | None,
    address: str | None,
    strategy: str | None,
    overrides: tuple[str, ...],
    print_config: bool,
) -> None:
    """Train HVG's DenoisingNet: stage 1 multi-view, stage 2 multi-view multi-frame.

    Writes OUT/metrics.jsonl (one line per step), OUT/loss_curve.png, OUT/config.json and
    OUT/checkpoints/step-*/ (safetensors weights, optimiser, schedule, EMA, RNG, data position).
    Kill it at any time and run the same command with --resume OUT to continue exactly. One
    trainer at a time may use OUT (it is locked); training stops with exit code 1 on a NaN or
    infinite loss, keeping the last good checkpoint.

    \b
    Examples:
      hvg-model train --config tiny --out runs/tiny --max-steps 200
      hvg-model train --config stage1 --svd-dir svd-xt --data shards/ --out runs/s1 --num-workers 32 --use-gpu
      hvg-model train --config stage2 --svd-dir svd-xt --data shards-mv/ --init-from runs/s1 --out runs/s2
      hvg-model train --config tiny --vae out/demo/vae --out runs/demo-vae
    """
    import json

    from hvg_model.training.config import load_config
    from hvg_model.training.run import train as run_training

    flags = {
        "schedule.max_steps": max_steps,
        "model.svd_dir": svd_dir,
        "model.vae_dir": vae_dir,
        "data.path": data,
        "data.smplx_model": smplx_model,
        "model.init_from": init_from,
        "schedule.global_batch_size": batch_size,
        "schedule.seed": seed,
        "distributed.num_workers": num_workers,
        "distributed.use_gpu": use_gpu,
        "distributed.address": address,
        "distributed.strategy": strategy,
    }
    extra = [f"{key}={json.dumps(value)}" for key, value in flags.items() if value is not None]
    config = load_config(config_name, [*overrides, *extra])
    if print_config:
        click.echo(json.dumps(config.to_dict(), indent=2))
        return
    summary = run_training(config, out, resume=resume, resume_step=resume_step, show_progress=True)
    click.echo(
        f"trained steps {summary.start_step}→{summary.end_step}: final loss {summary.final_loss:.5f}, "
        f"{summary.samples_per_s:.2f} samples/s ({summary.images_per_s:.1f} images/s), "
        f"{summary.optimizer}; metrics in {out}/metrics.jsonl"
    )
