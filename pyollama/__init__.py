"""pyollama: Ollama, re-built in Python on llama.cpp's server core."""

__version__ = "0.1.0"
