"""NDJSON streaming with Ollama's error rule: a real status before the first byte, an error line after."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from typing import Any

from aiohttp import web

from pyollama.errors import PyollamaError
from pyollama.server.schemas import ErrorResponse, encode_line

log = logging.getLogger("pyollama.server")

NDJSON = "application/x-ndjson"


def unexpected_message(exc: BaseException) -> str:
    """The `error` text for an exception outside the error hierarchy (as Go's err.Error())."""
    return str(exc) or type(exc).__name__


async def stream_ndjson(request: web.Request, lines: AsyncGenerator[Any, None]) -> web.StreamResponse:
    """Write every item of `lines` as one NDJSON line.

    The first item is produced before the response starts, so errors while scheduling or loading
    (404, 503, load failures) still get their HTTP status through the error middleware.
    """
    try:
        try:
            first = await anext(lines)
        except StopAsyncIteration:
            first = None
        response = web.StreamResponse(status=200, headers={"Content-Type": NDJSON})
        await response.prepare(request)
        try:
            if first is not None:
                await response.write(encode_line(first))
            async for item in lines:
                await response.write(encode_line(item))
        except PyollamaError as exc:
            log.warning("stream ended with error: %s", exc.message)
            await response.write(encode_line(ErrorResponse(error=exc.message)))
        except ConnectionError:
            log.info("client went away during a stream")
            return response
        except Exception as exc:  # after the first byte a status can no longer say it: a last line
            log.exception("stream failed")
            await response.write(encode_line(ErrorResponse(error=unexpected_message(exc))))
        await response.write_eof()
        return response
    finally:
        await lines.aclose()
