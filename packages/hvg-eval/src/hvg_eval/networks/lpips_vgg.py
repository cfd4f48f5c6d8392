"""LPIPS v0.1 with the VGG16 trunk (Zhang et al. 2018), in plain torch.

The trunk's names equal torchvision's ``vgg16().features`` (``features.{i}.weight``) so that
``vgg16-397923af.pth`` loads directly (its ``classifier.*`` tensors are ignored); the linear heads'
names equal the lpips wheel's ``weights/v0.1/vgg.pth`` (``lin{k}.model.1.weight``).
Taps after relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 (features indices 3, 8, 15, 22, 29).
"""

from __future__ import annotations

import torch
from torch import nn

#: torchvision VGG16 configuration "D": channels, "M" = max pool.
_VGG16_CONFIG: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M",
)  # fmt: skip
#: Indices in ``features`` after which LPIPS takes its five feature maps.
LPIPS_TAPS: tuple[int, ...] = (3, 8, 15, 22, 29)
LPIPS_CHANNELS: tuple[int, ...] = (64, 128, 256, 512, 512)
#: lpips' ScalingLayer constants (v0.1).
_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)


class VGG16Features(nn.Module):
    """torchvision ``vgg16().features`` (31 layers; LPIPS uses the first 30)."""

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for item in _VGG16_CONFIG:
            if item == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                assert isinstance(item, int)
                layers += [nn.Conv2d(channels, item, kernel_size=3, padding=1), nn.ReLU()]
                channels = item
        self.features = nn.Sequential(*layers)

    def taps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The five LPIPS feature maps of ``x`` ``(N, 3, H, W)``."""
        outputs = []
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in LPIPS_TAPS:
                outputs.append(x)
                if index == LPIPS_TAPS[-1]:
                    break
        return outputs


class NetLinLayer(nn.Module):
    """One LPIPS linear head: dropout (inactive in eval) + 1×1 conv without bias."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.model = nn.Sequential(nn.Dropout(), nn.Conv2d(channels, 1, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the module to a batch (shapes as in the class docstring)."""
        return self.model(x)


class LPIPSHeads(nn.Module):
    """The five v0.1 VGG heads; ``state_dict`` equals lpips' ``weights/v0.1/vgg.pth``."""

    def __init__(self) -> None:
        super().__init__()
        for index, channels in enumerate(LPIPS_CHANNELS):
            self.add_module(f"lin{index}", NetLinLayer(channels))

    def heads(self) -> list[NetLinLayer]:
        """Heads in tap order."""
        return [getattr(self, f"lin{index}") for index in range(len(LPIPS_CHANNELS))]


def _unit_normalise(features: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    norm = torch.sqrt(torch.sum(features**2, dim=1, keepdim=True))
    return features / (norm + eps)


class LPIPSVGG(nn.Module):
    """LPIPS-VGG v0.1 distance between two image batches.

    ``forward`` takes images in the range LPIPS was trained for, [-1, 1]; the metric decides
    whether to map [0, 1] inputs there (``lpips_input`` convention).
    """

    def __init__(self) -> None:
        super().__init__()
        self.trunk = VGG16Features()
        self.heads = LPIPSHeads()
        self.register_buffer("shift", torch.tensor(_SHIFT).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(_SCALE).view(1, 3, 1, 1), persistent=False)

    def forward(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        """Per-pair distance.

        Args:
            first: float ``(N, 3, H, W)``.
            second: float ``(N, 3, H, W)``.

        Returns:
            float ``(N,)``.
        """
        both = torch.cat([first, second], 0)
        taps = self.trunk.taps((both - self.shift) / self.scale)
        total = torch.zeros(first.shape[0], dtype=first.dtype, device=first.device)
        for head, tap in zip(self.heads.heads(), taps):
            normalised = _unit_normalise(tap)
            diff = (normalised[: first.shape[0]] - normalised[first.shape[0] :]) ** 2
            total = total + head(diff).mean(dim=(1, 2, 3))
        return total


__all__ = ["LPIPSVGG", "LPIPSHeads", "NetLinLayer", "VGG16Features"]
