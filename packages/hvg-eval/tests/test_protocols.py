import dataclasses

import pytest
from hvg_core.errors import InputError

from hvg_eval.protocols import PROTOCOLS, Protocol, get_protocol


def test_disco_is_the_papers_conventions():
    disco = get_protocol("disco")
    assert (disco.l1_variant, disco.lpips_input, disco.psnr_variant) == (
        "disco",
        "disco01",
        "disco",
    )
    assert (disco.ssim_window, disco.ssim_covariance, disco.ssim_color) == (
        "uniform7",
        "sample",
        "opencv-gray",
    )
    assert (disco.fid_backend, disco.fvd_backend, disco.fvd_clip) == (
        "pytorch-fid",
        "i3d-pt",
        "whole-video",
    )
    assert get_protocol("stylegan-v").fvd_clip == "16f-consecutive"
    assert get_protocol("clean").lpips_input == "correct"


def test_every_convention_is_recorded():
    recorded = get_protocol("clean").as_dict()
    assert set(recorded) == {field.name for field in dataclasses.fields(Protocol)}


def test_overrides_and_validation():
    changed = get_protocol("disco").with_overrides(psnr_variant="legacy-uint8", l1_variant=None)
    assert changed.psnr_variant == "legacy-uint8" and changed.l1_variant == "disco"
    assert PROTOCOLS["disco"].psnr_variant == "disco"  # the registry entry is untouched
    with pytest.raises(InputError, match="field 'lpips_input'"):
        get_protocol("disco").with_overrides(lpips_input="minus-one")
    with pytest.raises(InputError, match="unknown protocol conventions: colour"):
        get_protocol("disco").with_overrides(colour="bgr")
    with pytest.raises(InputError, match="known: disco, stylegan-v, clean"):
        get_protocol("tf")
