import itertools
import math

import pytest
from hvg_core.errors import InputError
from hypothesis import given, settings
from hypothesis import strategies as st

from hvg_sampler.planners import AnchoredPlanner, CyclicPlanner, PartitionPlanner, SlidingPlanner
from hvg_sampler.planners.cyclic import cyclic_window_count
from hvg_sampler.planners.sliding import sliding_window_count
from hvg_sampler.windows import check_axis_windows, contiguous_runs

sizes = st.integers(1, 40).flatmap(
    lambda window: st.tuples(st.integers(1, 200), st.just(window), st.integers(0, window - 1))
)


@settings(max_examples=200, deadline=None)
@given(sizes)
def test_sliding_invariants_and_count(args):
    length, window, overlap = args
    windows = SlidingPlanner()(length, window, overlap)
    check_axis_windows(windows, length, window, cyclic=False, axis="frame")
    assert len(windows) == sliding_window_count(length, window, overlap)
    if length > window:
        hop = window - overlap
        assert [w[0] for w in windows[:-1]] == [k * hop for k in range(len(windows) - 1)]
        assert windows[-1][-1] == length - 1


@settings(max_examples=200, deadline=None)
@given(sizes)
def test_cyclic_invariants_and_count(args):
    length, window, overlap = args
    windows = CyclicPlanner()(length, window, overlap)
    check_axis_windows(windows, length, window, cyclic=True, axis="view")
    expected = 1 if length <= window else math.ceil(length / (window - overlap))
    assert len(windows) == expected == cyclic_window_count(length, window, overlap)


@settings(max_examples=100, deadline=None)
@given(sizes)
def test_partition_invariants(args):
    length, window, _ = args
    windows = PartitionPlanner()(length, window, 0)
    check_axis_windows(windows, length, window, cyclic=False, axis="frame")
    assert len(windows) == math.ceil(length / window)
    if length % window == 0:
        assert sum(len(w) for w in windows) == length  # a true partition


def test_no_wrap_regression_uniform_scheduler():
    # research §8 #1: the "uniform" scheduler's last window for F=300, L=48, O=4 is
    # 264..299 + 0..11. Ours ends exactly at 299 and never touches the start.
    windows = SlidingPlanner()(300, 48, 4)
    assert windows[-1] == tuple(range(252, 300))
    assert all(w == tuple(sorted(w)) for w in windows)
    assert all(0 not in w for w in windows[1:])


def test_wrapping_window_rejected_on_time_axis():
    with pytest.raises(InputError, match="wraps on the non-cyclic frame axis"):
        check_axis_windows(((0, 1, 2), (2, 3, 0)), 4, 3, cyclic=False, axis="frame")


@pytest.mark.parametrize(
    ("windows", "message"),
    [
        (((0, 1, 2),), "uncovered"),
        (((0, 1, 1), (1, 2, 3)), "repeats"),
        (((0, 1), (2, 3, 4)), "expected 3"),
        (((0, 1, 7), (2, 3, 4)), "outside"),
        ((), "no window"),
    ],
)
def test_invariant_violations_named(windows, message):
    with pytest.raises(InputError, match=message):
        check_axis_windows(windows, 5, 3, cyclic=True, axis="view")


@pytest.mark.parametrize(("window", "overlap"), [(0, 0), (4, 4), (4, -1)])
def test_bad_window_arguments(window, overlap):
    with pytest.raises(InputError):
        SlidingPlanner()(10, window, overlap)


def test_cyclic_wraps_views():
    assert CyclicPlanner()(12, 6, 2) == (
        (0, 1, 2, 3, 4, 5),
        (4, 5, 6, 7, 8, 9),
        (8, 9, 10, 11, 0, 1),
    )


def test_anchored_overlap_is_real_regression_mimicmotion():
    # research §8 #9: MimicMotion tiles [0]+1..15, [0]+13..27 share only O-1 = 3 real frames.
    windows = AnchoredPlanner((0,))(40, 16, 4)
    check_axis_windows(windows, 40, 16, cyclic=False, axis="frame")
    assert all(w[0] == 0 for w in windows)
    for a, b in itertools.pairwise(windows):
        shared = (set(a) & set(b)) - {0}
        assert len(shared) >= 4
    assert len((set(windows[0]) & set(windows[1])) - {0}) == 4


def test_anchored_rejects_anchor_outside_and_too_small_window():
    with pytest.raises(InputError, match="anchors"):
        AnchoredPlanner((50,))(40, 16, 4)
    with pytest.raises(InputError, match="slots"):
        AnchoredPlanner((0, 1, 2))(40, 6, 3)


def test_partition_human4dit_t_not_96_regression():
    # research §8 #8: Human4DiT's script leaves zero-weight frames unless T = 96.
    for length in (50, 73, 95, 97, 120):
        windows = PartitionPlanner()(length, 24)
        check_axis_windows(windows, length, 24, cyclic=False, axis="frame")


def test_contiguous_runs():
    assert contiguous_runs((6, 7, 0, 1)) == ((0, 6, 8), (2, 0, 2))
    assert contiguous_runs((0, 13, 14, 15)) == ((0, 0, 1), (1, 13, 16))
    assert contiguous_runs(tuple(range(5))) == ((0, 0, 5),)
