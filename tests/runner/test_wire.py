"""The frame format between the daemon and a child runner: split and merged reads, bad frames."""

from __future__ import annotations

import asyncio
import struct
from typing import Any

import msgspec

from pyollama.runner import wire
from pyollama.runner.base import CompletionRequest
from pyollama.runner.types import Chunk, LoadOptions, ModelMetadata


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.aborted = False
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def abort(self) -> None:
        self.aborted = True

    def close(self) -> None:
        self.closed = True


def frame(msg: Any) -> bytes:
    payload = msgspec.msgpack.encode(msg)
    return struct.pack("<I", len(payload)) + payload


def make(decode_as: Any) -> tuple[wire.Channel, list[Any], list[Any], FakeTransport]:
    got: list[Any] = []
    lost: list[Any] = []
    ch = wire.Channel(decode_as, got.append, lost.append)
    t = FakeTransport()
    ch.connection_made(t)
    return ch, got, lost, t


def test_frames_split_and_merged_arrive_whole() -> None:
    ch, got, lost, _ = make(wire.Reply)
    data = b"".join(frame(wire.Piece(i, Chunk(content=f"t{i}"))) for i in range(3)) + frame(wire.End(7))
    for i in range(0, len(data), 5):  # 5 bytes at a time
        ch.data_received(data[i : i + 5])
    assert [type(m).__name__ for m in got] == ["Piece", "Piece", "Piece", "End"]
    assert [m.chunk.content for m in got[:3]] == ["t0", "t1", "t2"]
    ch.data_received(frame(wire.Ready(metadata=ModelMetadata(architecture="llama"))) * 2)
    assert got[-1].metadata.architecture == "llama" and len(got) == 6
    assert not lost


def test_requests_round_trip() -> None:
    ch, got, _, _ = make(wire.Request)
    msgs = [
        wire.Load(model_path="/m", options=LoadOptions(num_ctx=64, lora=("a",), rpc_servers=("h:1",))),
        wire.Complete(
            id=1, request=CompletionRequest(prompt=[1, 2], images=[b"\x00\xff"], format={"type": "object"})
        ),
        wire.Cancel(id=1),
        wire.Shutdown(),
    ]
    ch.data_received(b"".join(frame(m) for m in msgs))
    assert got == msgs


def test_a_garbage_or_oversized_frame_drops_the_connection() -> None:
    ch, _, lost, t = make(wire.Reply)
    ch.data_received(struct.pack("<I", 3) + b"\xc1\xc1\xc1")  # not msgpack
    assert t.aborted and len(lost) == 1 and ch.closed
    ch, _, lost, t = make(wire.Reply)
    ch.data_received(struct.pack("<I", wire.MAX_FRAME + 1))
    assert t.aborted and len(lost) == 1
    ch.connection_lost(None)  # reported once
    assert len(lost) == 1


async def test_sends_in_one_iteration_leave_in_one_write() -> None:
    ch, _, _, t = make(wire.Reply)
    for i in range(4):
        ch.send(wire.Piece(i, Chunk(content="x")))
    assert t.written == []
    await asyncio.sleep(0)
    assert len(t.written) == 1
    back, got, _, _ = make(wire.Reply)
    back.data_received(t.written[0])
    assert [m.id for m in got] == [0, 1, 2, 3]
