"""Backtests (D36): a program's recorded history replayed through the pure evaluator under two
rulesets, and the difference between them. Pure: storage reads the history and the starts
(`engine/store/history/`), this package evaluates and compares them."""
