"""The data every layer shares, with no I/O: the bundle schema (`bundle`), the state a rule sees
(`state`), what evaluating an event produces (`result`), exact amounts (`amounts`), Go durations
(`durations`) and the words all layers use (`vocabulary`)."""
