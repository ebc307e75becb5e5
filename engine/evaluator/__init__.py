"""The pure evaluator: one event against a compiled program (`evaluate`), its actions
(`actions`) applied to a working copy of the state (`working`), the CEL variables (`bindings`),
and a bundle's test cases (`cases`)."""
