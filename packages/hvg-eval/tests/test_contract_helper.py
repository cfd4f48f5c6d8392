import pytest

from hvg_eval.testing import check_metric_contract


class GoodMean:
    name = "good-mean"
    higher_is_better = False

    def __init__(self):
        self.reset()

    def reset(self):
        self.total, self.count = 0.0, 0

    def update(self, real, fake):
        self.total += float((real - fake).abs().double().sum())
        self.count += real.numel()

    def compute(self):
        return self.total / self.count


class ForgetfulReset(GoodMean):
    name = "forgetful"

    def reset(self):
        if not hasattr(self, "total"):
            super().reset()


class LastBatchOnly(GoodMean):
    name = "last-batch"

    def update(self, real, fake):
        self.reset()
        super().update(real, fake)


class WrongDirection(GoodMean):
    name = "wrong-direction"
    higher_is_better = True


class NoName(GoodMean):
    name = ""


def test_a_correct_metric_passes():
    check_metric_contract(GoodMean)


@pytest.mark.parametrize(
    ("metric", "clause"),
    [
        (ForgetfulReset, "reset"),
        (LastBatchOnly, "two half updates"),
        (WrongDirection, "identical inputs"),
        (NoName, "non-empty string"),
    ],
)
def test_broken_metrics_are_caught_with_the_clause_named(metric, clause):
    with pytest.raises(AssertionError, match=clause):
        check_metric_contract(metric)
