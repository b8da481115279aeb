"""The web chat page (`GET /ui`): static files and their route."""
