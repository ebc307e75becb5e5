"""The worker: processes events exactly once and sends webhooks.

processor   claim an event, run the pipeline, retry or fail; drain a participant's lane
pipeline    one event: load its context, evaluate it with the pure engine, post its effects
reconciler  wakes rows whose wake-up was lost (crash, kill -9) or whose lease expired
tasks       the queue's task bodies, registered in the processes that run them
runner      the `accrual worker` process: Huey consumer plus reconciler thread
scheduler   the clock's due work, by registered jobs
automations the `automations` job: firings claimed once and fanned out in batches
subscriptions the `automation_subscriptions` job: participant_state subscriptions fired once each
"""
