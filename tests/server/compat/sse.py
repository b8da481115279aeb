"""Reading SSE bytes back in the compat tests."""

from __future__ import annotations

import json
from typing import Any


def data_frames(raw: bytes) -> list[Any]:
    """`data: ...` frames of an OpenAI chat/completions stream; `[DONE]` stays a string."""
    text = raw.decode()
    assert text.endswith("\n\n"), text
    out: list[Any] = []
    for frame in text.split("\n\n")[:-1]:
        assert frame.startswith("data: "), frame
        body = frame[len("data: ") :]
        out.append(body if body == "[DONE]" else json.loads(body))
    return out


def events(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    """`event: <type>\\ndata: <json>` frames; checks the data's `type` matches the event name."""
    text = raw.decode()
    if not text:
        return []
    assert text.endswith("\n\n"), text
    out = []
    for frame in text.split("\n\n")[:-1]:
        head, data = frame.split("\n", 1)
        assert head.startswith("event: ") and data.startswith("data: "), frame
        name, obj = head[len("event: ") :], json.loads(data[len("data: ") :])
        assert obj["type"] == name, frame
        out.append((name, obj))
    return out
