"""`python -m engine ...` is the `accrual` command (used to start child processes portably)."""

from engine.cli.main import main

main()
