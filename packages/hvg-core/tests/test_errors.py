"""Error types carry the file and field into their message and the exit code."""

from __future__ import annotations

from hvg_core.errors import (
    HVGError,
    InputError,
    MissingResourceError,
    RegistryError,
    UnknownPartError,
)


def test_input_error_names_file_and_field():
    error = InputError(
        "expected shape (55, 3), got (24, 3)", path="/d/s1/smplx.pkl", field="joints"
    )
    assert str(error) == "/d/s1/smplx.pkl: field 'joints': expected shape (55, 3), got (24, 3)"
    assert error.path == "/d/s1/smplx.pkl" and error.field == "joints"
    assert error.exit_code == 2
    assert isinstance(error, ValueError)


def test_input_error_without_location_is_plain():
    assert str(InputError("--views must be positive")) == "--views must be positive"


def test_exit_codes():
    assert HVGError("x").exit_code == 1
    assert MissingResourceError("x", path="w.pth").exit_code == 2
    assert RegistryError("x").exit_code == 2
    assert str(UnknownPartError("no metrics named 'q'")) == "no metrics named 'q'"
