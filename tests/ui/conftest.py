"""The server tests' app fixtures (an in-memory store, FakeRunner) for the page's route tests."""

from tests.server.conftest import client, factory, make_client

__all__ = ["client", "factory", "make_client"]
