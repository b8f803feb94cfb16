"""HTTP and WebSocket endpoints of the hub's Starlette app."""
