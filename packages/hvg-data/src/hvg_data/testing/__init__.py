"""Test helpers for hvg-data and for plugin authors.

* Fixture generators that write small trees in each dataset's exact on-disk layout
  (``make_thuman2_fixture``, ``make_thuman21_fixture``, ``make_2k2k_fixture``,
  ``make_customhuman_fixture``, ``make_mvhumannet_fixture``; :data:`FIXTURES` by dataset name).
* :func:`check_adapter_contract`: the checks every dataset adapter must pass; call it from a
  plugin's tests with the plugin's adapter on its own fixture.
"""

from hvg_data.testing.contract import check_adapter_contract
from hvg_data.testing.fixtures_2k2k import make_2k2k_fixture
from hvg_data.testing.fixtures_customhuman import make_customhuman_fixture
from hvg_data.testing.fixtures_mvhumannet import make_mvhumannet_fixture
from hvg_data.testing.fixtures_thuman2 import make_thuman2_fixture
from hvg_data.testing.fixtures_thuman21 import make_thuman21_fixture

FIXTURES = {
    "thuman2": make_thuman2_fixture,
    "thuman21": make_thuman21_fixture,
    "2k2k": make_2k2k_fixture,
    "customhuman": make_customhuman_fixture,
    "mvhumannet": lambda base, **kw: make_mvhumannet_fixture(base, **kw).root,
}
"""Dataset name -> ``generator(base_folder, **options) -> root``."""

__all__ = [
    "FIXTURES",
    "check_adapter_contract",
    "make_2k2k_fixture",
    "make_customhuman_fixture",
    "make_mvhumannet_fixture",
    "make_thuman2_fixture",
    "make_thuman21_fixture",
]
