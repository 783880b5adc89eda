"""``chorus worker``: dispatches outbox jobs to event handlers, sends push notifications and
runs periodic tasks (docs/worker.md). Nothing is built at import time."""
