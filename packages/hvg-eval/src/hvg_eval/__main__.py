"""``python -m hvg_eval`` runs the ``hvg-eval`` command line."""

from hvg_eval.cli import main

main()
