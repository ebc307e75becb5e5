"""`python -m engine ...` is the `accrual` command; `accrual up` starts its child processes this
way, which works wherever the interpreter does, installed script or not."""

from engine.cli.main import main

main()
