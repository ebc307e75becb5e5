"""The worker: processes events exactly once and sends webhooks.

    processor   claim an event, evaluate it with the pure engine, post its effects, retry or fail
    ordering    per-participant lanes: one event at a time, in event_timestamp order (D15)
    reconciler  wakes rows whose wake-up was lost (crash, kill -9) or whose lease expired
    webhooks    webhook events recorded in the transaction of the change they report
    delivery    signing and sending deliveries, 8 attempts with backoff
    endpoints   managing endpoints and deliveries (what the /v1/webhook-* API calls)
    http        URL rules and the SSRF-guarded HTTP client
    signing     Standard Webhooks signatures
    settings    the tunables, from the environment
    runner      the `accrual worker` process: Huey consumer plus reconciler thread

Submodules are imported where used; importing this package loads nothing heavy.
"""
