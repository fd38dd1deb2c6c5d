"""`python -m local.cloud_tasks_emulator`."""

from local.cloud_tasks_emulator.cli import main

main()
