from __future__ import annotations

import pytest

from hvg_data.datasets.synthetic import SyntheticAdapter
from hvg_data.testing import check_adapter_contract


def test_synthetic_passes_the_contract():
    samples = check_adapter_contract(SyntheticAdapter(count=2, frames=2), max_subjects=1)
    assert samples[0].frames == 2 and len(samples[0].meshes) == 2


class _Unsorted(SyntheticAdapter):
    def subjects(self):
        return ["00001", "00000"]


class _WrongName(SyntheticAdapter):
    def load(self, subject):
        import dataclasses

        return dataclasses.replace(super().load(subject), subject="other")


class _Lenient(SyntheticAdapter):
    def load(self, subject):
        return super().load("00000")  # never raises for unknown subjects


@pytest.mark.parametrize(
    ("adapter", "message"),
    [
        (_Unsorted(count=2), "must be sorted"),
        (_WrongName(count=1), "wrong subject"),
        (_Lenient(count=1), "must raise InputError"),
    ],
)
def test_contract_violations_are_reported(adapter, message):
    with pytest.raises(AssertionError, match=message):
        check_adapter_contract(adapter, max_subjects=1)
