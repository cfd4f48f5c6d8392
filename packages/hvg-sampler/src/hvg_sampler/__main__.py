"""``python -m hvg_sampler`` runs the ``hvg-sampler`` command line."""

from hvg_sampler.cli import main

if __name__ == "__main__":
    main()
