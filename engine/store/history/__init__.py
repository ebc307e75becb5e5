"""Recorded history read for a backtest (D36): a program's processed events in their recorded
order (`events.py`), the changes made around them by anything else (`changes.py`) and each
holder's state just ahead of the window (`starts.py`); `source.py` gathers them for one window."""
