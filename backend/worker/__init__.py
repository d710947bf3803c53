"""The model process (`python -m backend.worker`: server, jobs, journal) and the app-side pieces that
drive it: request builders, job submission, a headless client and session, and ingest."""
