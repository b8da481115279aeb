"""One error hierarchy for the whole daemon; each class knows its HTTP status.

Routes turn any `PyollamaError` into `{"error": message}` with `status` before the first streamed
byte, or into a final `{"error": message}` NDJSON line after it.
"""

from __future__ import annotations


class PyollamaError(Exception):
    """Base of every error pyollama raises on purpose."""

    status: int = 500

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return self.message


class BadRequest(PyollamaError):
    status = 400


class Forbidden(PyollamaError):
    status = 403


class NotFound(PyollamaError):
    status = 404


class ModelNotFound(NotFound):
    pass


class MethodNotAllowed(PyollamaError):
    status = 405


class Canceled(PyollamaError):
    """The client went away (Ollama answers 499 `request canceled`)."""

    status = 499


class ServerBusy(PyollamaError):
    status = 503


class InternalError(PyollamaError):
    status = 500


# --- engine errors (raised by pyollama.engine, re-exported there) ------------------------------


class EngineError(PyollamaError):
    """Anything that went wrong inside llama.cpp or the C glue."""

    status = 500


class EngineConfigError(EngineError, BadRequest):
    """A load-time option or request body the engine rejected (bad value, bad JSON)."""

    status = 400


class ModelLoadError(EngineError):
    """llama.cpp could not load the model; the message is llama.cpp's own reason."""

    status = 500


class EngineStateError(EngineError):
    """The server is not in a state for this call (not loaded, already stopped, ...)."""

    status = 500


class RunnerCrashed(EngineError):
    """The child runner process holding the model died (llama.cpp aborted, or it was killed)."""

    status = 500


class GGUFError(EngineError, BadRequest):
    """A file that is not a readable GGUF."""

    status = 400
