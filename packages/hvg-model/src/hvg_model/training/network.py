"""Building the trainable networks from a local SVD-xt directory (one place to swap architectures)."""

from __future__ import annotations

from torch import nn

from hvg_model.training.config import TrainConfig


def build_networks(config: TrainConfig, svd_dir: str) -> tuple[nn.Module, nn.Module | None]:
    """The DenoisingNet and the ReferenceNet (or None) initialised from ``svd_dir``'s UNet.

    ``model.architecture = "svd"`` trains SVD's plain UNet (no pose, cameras or ReferenceNet;
    the view-agnostic baseline). ``"hvg"`` builds :class:`hvg_model.HVGDenoisingNet` with the
    configured pose variant and, unless ``model.reference_net`` is false, an
    :class:`hvg_model.reference_net.HVGReferenceNet` copied from the same UNet's encoder half.

    The VAE is ``model.vae_dir`` when set, else ``svd_dir/vae``: its latent channels must fit
    the UNet and its downscale factor sets the pose guider's strides.

    Raises:
        MissingResourceError: ``svd_dir`` lacks the UNet (or the VAE).
        InputError: The UNet does not take the VAE's latent channels (2·C in, C out).
    """
    from hvg_model.loading import check_latent_channels, load_svd_unet, vae_scale_factor
    from hvg_model.pose_modulator import guider_strides_for

    vae_dir = config.model.vae_dir
    check_latent_channels(svd_dir, vae_dir=vae_dir)
    unet = load_svd_unet(svd_dir)
    if config.model.architecture == "svd":
        return unet, None
    from hvg_model.denoising_net import HVGDenoisingNet
    from hvg_model.reference_net import HVGReferenceNet
    from hvg_model.training.shard_source import run_pose_spec

    net = HVGDenoisingNet.from_svd_unet(
        unet,
        pose_signal=config.model.variant,
        pose_spec=run_pose_spec(config).to_dict(),
        pose_guider_strides=guider_strides_for(vae_scale_factor(svd_dir, vae_dir=vae_dir)),
    )
    reference_net = HVGReferenceNet.from_svd_unet(unet) if config.model.reference_net else None
    return net, reference_net
