"""Reference images as diffusers users pass them: PIL images, paths, arrays, tensors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hvg_core.errors import InputError
from PIL import Image

from hvg_model.reference_image import load_reference_image


def striped_image(width: int, height: int) -> Image.Image:
    """Red left third, green middle, blue right third."""
    array = np.zeros((height, width, 3), dtype=np.uint8)
    third = width // 3
    array[:, :third, 0] = 255
    array[:, third : 2 * third, 1] = 255
    array[:, 2 * third :, 2] = 255
    return Image.fromarray(array)


def test_pil_image_is_centre_cropped_and_resized():
    tensor = load_reference_image(striped_image(96, 32), 16)
    assert tensor.shape == (1, 3, 16, 16) and tensor.dtype == torch.float32
    # The centre 32×32 square of a 96-wide image is the green stripe only.
    assert torch.allclose(tensor[0, 1], torch.ones(16, 16), atol=0.02)
    assert tensor[0, 0].max() < 0.02 and tensor[0, 2].max() < 0.02


def test_path_array_and_pil_give_the_same_tensor(tmp_path):
    image = striped_image(48, 48)
    image.save(tmp_path / "person.png")
    from_path = load_reference_image(tmp_path / "person.png", (24, 24))
    from_str = load_reference_image(str(tmp_path / "person.png"), 24)
    from_array = load_reference_image(np.asarray(image), 24)
    from_pil = load_reference_image(image.convert("RGBA"), 24)
    for other in (from_str, from_array, from_pil):
        assert torch.equal(from_path, other)


def test_tensors_pass_through_batched():
    image = torch.rand(3, 8, 8)
    assert torch.equal(load_reference_image(image, 64), image[None])
    batch = torch.rand(2, 3, 8, 8)
    assert load_reference_image(batch) is batch


def test_no_size_keeps_the_image_size():
    assert load_reference_image(striped_image(40, 24)).shape == (1, 3, 24, 40)


def test_unreadable_file_names_the_file(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(InputError, match="cannot read the reference image") as info:
        load_reference_image(bad, 16)
    assert info.value.path == str(bad)


@pytest.mark.parametrize(
    "value", [np.zeros((8, 8), dtype=np.uint8), np.zeros((8, 8, 3), dtype=np.float32), 3.0]
)
def test_wrong_inputs_are_input_errors(value):
    with pytest.raises(InputError) as info:
        load_reference_image(value, 16)
    assert info.value.field == "reference_image"
