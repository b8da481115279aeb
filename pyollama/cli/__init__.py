"""The `pyollama` command: Ollama's CLI (commands, progress bars, tables) and the terminal chat.

Everything here is a client of the REST API; nothing imports the daemon except `serve`, lazily.
"""
