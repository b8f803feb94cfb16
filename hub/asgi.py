"""``uvicorn hub.asgi:app``: the app built from the environment (production entry point)."""

import gc

from hub.app import create_app
from hub.settings import Settings

app = create_app(Settings.from_env())

# A hub process keeps thousands of long-lived objects per WebSocket subscriber. With CPython's
# default thresholds (700, 10, 10) every fan-out promotes enough short-lived objects that a full
# collection walks all of them every few events: pauses of 0.3 to 1.5 s with 1,000 subscribers,
# which were the fan-out's p99. Collecting the young generation less often lets those objects
# die young; what exists once the app is built (modules, the schema) is never garbage.
gc.collect()
gc.freeze()
gc.set_threshold(20_000, 20, 20)
