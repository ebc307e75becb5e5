"""Benchmarks that time Accrual's hot paths beside a hand-written reference, in one run."""
