"""The frames between the daemon and a child runner process, and the framing on the socket.

Every frame is a 4-byte little-endian length and one msgpack-encoded message (a tagged msgspec
Struct, so one decoder reads any of them). The daemon (`pyollama.runner.process`) sends requests
with an id of its choosing; the child (`pyollama.runner.child`) answers each id with `Piece`s (a
stream), or one `Result`, then `End`, or a `Failure`. The types the requests and answers carry are
the runner's own (`runner.base`, `runner.types`): they were made to cross a process boundary.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable
from typing import Any

import msgspec

from pyollama.runner.base import ChatRequest, CompletionRequest
from pyollama.runner.types import Chunk, LoadOptions, ModelMetadata

MAX_FRAME = 1 << 30  # a frame past this is a broken peer, not a big request (images are MBs)
_LEN = struct.Struct("<I")


# --- daemon -> child -------------------------------------------------------------------------------


class Load(msgspec.Struct, tag="load", kw_only=True, array_like=True):
    """The first frame: which model, how, and llama.cpp's log level (`Settings.llama_log_level`)."""

    model_path: str
    options: LoadOptions
    log_level: int = 0
    engine: str = "native"  # "fake": a FakeRunner, for the transport's fast tests
    fake_token_delay: float = 0.0


class Complete(msgspec.Struct, tag="complete", kw_only=True, array_like=True):
    id: int
    request: CompletionRequest


class Chat(msgspec.Struct, tag="chat", kw_only=True, array_like=True):
    id: int
    request: ChatRequest


class Embed(msgspec.Struct, tag="embed", kw_only=True, array_like=True):
    id: int
    inputs: list[str]
    truncate: bool = True
    normalize: bool = True


class RerankCall(msgspec.Struct, tag="rerank", kw_only=True, array_like=True):
    id: int
    query: str
    documents: list[str]


class Tokenize(msgspec.Struct, tag="tokenize", kw_only=True, array_like=True):
    id: int
    text: str
    add_special: bool = False


class Detokenize(msgspec.Struct, tag="detokenize", kw_only=True, array_like=True):
    id: int
    tokens: list[int]


class ApplyTemplate(msgspec.Struct, tag="template", kw_only=True, array_like=True):
    id: int
    messages: list[dict[str, Any]]
    kwargs: dict[str, Any] = {}


class Cancel(msgspec.Struct, tag="cancel", kw_only=True, array_like=True):
    """The daemon lost interest in `id` (client gone): stop it, send nothing more for it."""

    id: int


class Shutdown(msgspec.Struct, tag="shutdown", array_like=True):
    """Close the model and exit."""


# --- child -> daemon -------------------------------------------------------------------------------


class Ready(msgspec.Struct, tag="ready", kw_only=True, array_like=True):
    metadata: ModelMetadata


class Piece(msgspec.Struct, tag="p", array_like=True):
    """One chunk of stream `id` (the hot frame: positional fields keep it small)."""

    id: int
    chunk: Chunk


class Result(msgspec.Struct, tag="result", kw_only=True, array_like=True):
    """The answer of a non-streamed call; the caller knows its type."""

    id: int
    value: Any


class End(msgspec.Struct, tag="end", array_like=True):
    """Stream `id` finished normally."""

    id: int


class Failure(msgspec.Struct, tag="failure", kw_only=True, array_like=True):
    """Call `id` (0: the load) raised: the `pyollama.errors` class name, its status and message."""

    id: int
    kind: str
    status: int
    message: str


Request = (
    Load | Complete | Chat | Embed | RerankCall | Tokenize | Detokenize | ApplyTemplate | Cancel | Shutdown
)
Reply = Ready | Piece | Result | End | Failure


class FrameError(Exception):
    """The peer sent something that is not a frame of this protocol."""


class Channel(asyncio.Protocol):
    """A stream socket carrying frames: `send` queues a message, and every message sent in one
    loop iteration leaves in one write (the tokens of 4 parallel streams arrive together);
    `on_message` gets each decoded frame, `on_lost` the end of the connection (once)."""

    def __init__(
        self,
        decode_as: type[Any],
        on_message: Callable[[Any], None],
        on_lost: Callable[[BaseException | None], None],
    ) -> None:
        self._decoder: msgspec.msgpack.Decoder[Any] = msgspec.msgpack.Decoder(decode_as)
        self._encoder = msgspec.msgpack.Encoder()
        self._on_message = on_message
        self._on_lost = on_lost
        self._transport: asyncio.Transport | None = None
        self._inbox = bytearray()
        self._outbox: list[bytes] = []
        self._flush_scheduled = False
        self.closed = False

    # --- asyncio.Protocol -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buf = self._inbox
        buf += data
        start = 0
        try:
            while len(buf) - start >= 4:
                (n,) = _LEN.unpack_from(buf, start)
                if n > MAX_FRAME:
                    raise FrameError(f"frame of {n} bytes")
                if len(buf) - start - 4 < n:
                    break
                message = self._decoder.decode(memoryview(buf)[start + 4 : start + 4 + n])
                start += 4 + n
                self._on_message(message)
        except (FrameError, msgspec.DecodeError) as exc:
            del buf[:start]
            self.abort(exc)
            return
        del buf[:start]

    def connection_lost(self, exc: BaseException | None) -> None:
        if self.closed:
            return
        self.closed = True
        self._outbox.clear()
        self._on_lost(exc)

    # --- sending ------------------------------------------------------------------------------------

    def send(self, message: Any) -> None:
        if self.closed or self._transport is None:
            return
        payload = self._encoder.encode(message)
        self._outbox.append(_LEN.pack(len(payload)))
        self._outbox.append(payload)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._outbox and self._transport is not None and not self.closed:
            self._transport.write(b"".join(self._outbox))
        self._outbox.clear()

    def close(self) -> None:
        """Send what is queued, then close."""
        self._flush()
        if self._transport is not None:
            self._transport.close()

    def abort(self, exc: BaseException | None = None) -> None:
        if self._transport is not None:
            self._transport.abort()
        self.connection_lost(exc)
