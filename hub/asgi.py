"""``uvicorn hub.asgi:app``: the app built from the environment (production entry point)."""

from hub.app import create_app
from hub.settings import Settings

app = create_app(Settings.from_env())
