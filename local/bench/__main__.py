"""`python -m local.bench`."""

from local.bench.cli import main

main()
