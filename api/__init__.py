"""The HTTP API: a Litestar application wire-compatible with Scrip's (`api.app.create_app`)."""
