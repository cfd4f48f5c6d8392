"""Metrics, one per module, each a streaming class plus a functional twin.

Every metric follows the contract documented in :mod:`hvg_eval.metrics.base` and checked by
:func:`hvg_eval.testing.check_metric_contract`; third-party metrics registered through
``hvg_register_metrics`` follow the same contract and work with ``hvg-eval run``.
"""
