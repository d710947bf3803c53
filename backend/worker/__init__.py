"""The model process (`python -m backend.worker`) and the app-side pieces that drive it: client, payloads, ingest."""
