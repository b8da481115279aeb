"""The daemon (`pyollama serve`): Ollama's REST API over aiohttp."""
