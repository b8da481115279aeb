"""Human-facing formatting copied from Ollama's `format` package and `api.Metrics.Summary`.

Kept byte-for-byte close to Ollama's output because scripts and people grep it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pyollama.go.format import human_number
from pyollama.go.time import duration_string

_KB = 1000
_MB = _KB * 1000
_GB = _MB * 1000
_TB = _GB * 1000


def human_bytes(b: int) -> str:
    """Ollama's `format.HumanBytes`: decimal units, no decimals from 10 up."""
    for limit, name in ((_TB, "TB"), (_GB, "GB"), (_MB, "MB"), (_KB, "KB")):
        if b >= limit:
            value, unit = b / limit, name
            break
    else:
        return f"{b} B"
    if value >= 10 or value == math.trunc(value):
        return f"{int(value)} {unit}"
    return f"{value:.1f} {unit}"


def human_duration(seconds: float) -> str:
    """Ollama's `format.humanDuration`: coarse English approximations."""
    secs = int(seconds)
    if secs < 1:
        return "Less than a second"
    if secs == 1:
        return "1 second"
    if secs < 60:
        return f"{secs} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = round(seconds / 3600)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{hours // 24 // 365} years"


def human_time(t: datetime | None, zero: str = "Never", *, now: datetime | None = None) -> str:
    """Ollama's `format.HumanTime`: `4 minutes ago`, `4 minutes from now`, `Forever`."""
    if t is None:
        return zero
    now = now or datetime.now(UTC)
    delta = (now - t).total_seconds()
    if int(delta / 3600) // 24 // 365 < -20:
        return "Forever"
    if delta < 0:
        return human_duration(-delta) + " from now"
    return human_duration(delta) + " ago"


_TS = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$")


def parse_timestamp(value: str | None) -> datetime | None:
    """RFC 3339 with nanoseconds (Go's format) to an aware datetime; None for the zero time."""
    if not value:
        return None
    m = _TS.match(value.strip())
    if not m:
        return None
    frac = (m.group(2) or "")[:7]  # Python keeps microseconds
    tz = m.group(3) or "Z"
    dt = datetime.fromisoformat(m.group(1) + frac + ("+00:00" if tz == "Z" else tz))
    if dt.year <= 1:
        return None
    return dt


def render_table(header: Sequence[str] | None, rows: Sequence[Sequence[str]], padding: str = "    ") -> str:
    """Ollama's borderless, left-aligned tablewriter layout (columns joined by `padding`)."""
    all_rows = ([list(header)] if header else []) + [list(r) for r in rows]
    if not all_rows:
        return ""
    ncols = max(len(r) for r in all_rows)
    widths = [0] * ncols
    for r in all_rows:
        for i, cell in enumerate(r):
            widths[i] = max(widths[i], len(cell))
    lines = []
    for r in all_rows:
        cells = [(r[i] if i < len(r) else "").ljust(widths[i]) for i in range(ncols)]
        lines.append(padding.join(cells).rstrip())
    return "\n".join(lines) + "\n"


def processor_string(size: int, size_vram: int) -> str:
    """The PROCESSOR column of `ps`."""
    if size_vram == 0:
        return "100% CPU"
    if size_vram == size:
        return "100% GPU"
    if size_vram > size or size == 0:
        return "Unknown"
    cpu = round((size - size_vram) / size * 100)
    return f"{cpu}%/{100 - cpu}% CPU/GPU"


def list_table(models: Sequence[Mapping[str, Any]], prefix: str = "", *, now: datetime | None = None) -> str:
    """`pyollama list`: NAME ID SIZE MODIFIED, newest first as the server sorts them."""
    rows = []
    for m in models:
        name = str(m.get("name") or m.get("model") or "")
        if prefix and not name.lower().startswith(prefix.lower()):  # Ollama's list ignores case
            continue
        rows.append(
            [
                name,
                str(m.get("digest", ""))[:12],
                human_bytes(int(m.get("size", 0))),
                human_time(parse_timestamp(m.get("modified_at")), "Never", now=now),
            ]
        )
    return render_table(["NAME", "ID", "SIZE", "MODIFIED"], rows)


def ps_table(models: Sequence[Mapping[str, Any]], prefix: str = "", *, now: datetime | None = None) -> str:
    """`pyollama ps`: NAME ID SIZE PROCESSOR CONTEXT UNTIL."""
    now = now or datetime.now(UTC)
    rows = []
    for m in models:
        name = str(m.get("name") or m.get("model") or "")
        if prefix and not name.startswith(prefix):
            continue
        size = int(m.get("size", 0))
        expires = parse_timestamp(m.get("expires_at"))
        if expires is not None and (now - expires).total_seconds() > 0:
            until = "Stopping..."
        else:
            until = human_time(expires, "Never", now=now)
        rows.append(
            [
                name,
                str(m.get("digest", ""))[:12],
                human_bytes(size),
                processor_string(size, int(m.get("size_vram", 0))),
                str(int(m.get("context_length", 0) or 0)),
                until,
            ]
        )
    return render_table(["NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"], rows)


def metrics_summary(resp: Mapping[str, Any]) -> str:
    """`--verbose` timing block, as Ollama's `api.Metrics.Summary` (zero fields are left out)."""
    out = []
    total = int(resp.get("total_duration", 0) or 0)
    load = int(resp.get("load_duration", 0) or 0)
    pcount = int(resp.get("prompt_eval_count", 0) or 0)
    pdur = int(resp.get("prompt_eval_duration", 0) or 0)
    ecount = int(resp.get("eval_count", 0) or 0)
    edur = int(resp.get("eval_duration", 0) or 0)
    if total > 0:
        out.append(f"total duration:       {duration_string(total)}")
    if load > 0:
        out.append(f"load duration:        {duration_string(load)}")
    if pcount > 0:
        out.append(f"prompt eval count:    {pcount} token(s)")
    if pdur > 0:
        out.append(f"prompt eval duration: {duration_string(pdur)}")
        out.append(f"prompt eval rate:     {pcount / (pdur / 1e9):.2f} tokens/s")
    if ecount > 0:
        out.append(f"eval count:           {ecount} token(s)")
    if edur > 0:
        out.append(f"eval duration:        {duration_string(edur)}")
        out.append(f"eval rate:            {ecount / (edur / 1e9):.2f} tokens/s")
    return "".join(line + "\n" for line in out)


def _value_str(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list):
        shown: list[str] = []
        width = 1
        for i, item in enumerate(v):
            w = len(str(item)) + (2 if i else 0)
            if width + w > 10 and i > 0:
                break
            width += w
            shown.append(str(item))
        if len(shown) < len(v):
            return "[" + " ".join(shown) + f" ...+{len(v) - len(shown)} more]"
        return "[" + " ".join(shown) + "]"
    return str(v)


def _head(text: str, n: int) -> list[list[str]]:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    rows = [["", ln] for ln in lines[:n]]
    if len(lines) > n:
        rows.append(["", "..."])
    return rows


def show_info(resp: Mapping[str, Any], verbose: bool = False) -> str:
    """`pyollama show MODEL` without flags: Ollama's Model/Capabilities/Parameters/System/License blocks."""
    parts: list[str] = []

    def block(title: str, rows: list[list[str]]) -> None:
        parts.append(f"  {title}\n" + render_table(None, rows) + "\n")

    info: Mapping[str, Any] = resp.get("model_info") or {}
    details: Mapping[str, Any] = resp.get("details") or {}
    rows: list[list[str]] = []
    if resp.get("remote_host"):
        rows.append(["", "Remote model", str(resp.get("remote_model", ""))])
        rows.append(["", "Remote URL", str(resp["remote_host"])])
    if info:
        arch = str(info.get("general.architecture", ""))
        if arch:
            rows.append(["", "architecture", arch])
        params = str(details.get("parameter_size", ""))
        if not params and isinstance(info.get("general.parameter_count"), int | float):
            params = human_number(int(info["general.parameter_count"]))
        if params:
            rows.append(["", "parameters", params])
        for key, label in (("context_length", "context length"), ("embedding_length", "embedding length")):
            v = info.get(f"{arch}.{key}")
            if isinstance(v, int | float):
                rows.append(["", label, f"{v:g}" if isinstance(v, float) else str(v)])
    else:
        rows.append(["", "architecture", str(details.get("family", ""))])
        rows.append(["", "parameters", str(details.get("parameter_size", ""))])
    rows.append(["", "quantization", str(details.get("quantization_level", ""))])
    if resp.get("requires"):
        rows.append(["", "requires", str(resp["requires"])])
    block("Model", rows)

    caps = resp.get("capabilities") or []
    if caps:
        block("Capabilities", [["", str(c)] for c in caps])
    proj: Mapping[str, Any] | None = resp.get("projector_info")
    if proj:
        prow: list[list[str]] = []
        if proj.get("general.architecture"):
            prow.append(["", "architecture", str(proj["general.architecture"])])
        if isinstance(proj.get("general.parameter_count"), int | float):
            prow.append(["", "parameters", human_number(int(proj["general.parameter_count"]))])
        block("Projector", prow)
    if resp.get("parameters"):
        prow = [["", *ln.split()] for ln in str(resp["parameters"]).splitlines() if ln.strip()]
        block("Parameters", prow)
    if info and verbose:
        block("Metadata", [["", k, _value_str(info[k])] for k in sorted(info)])
    tensors = resp.get("tensors") or []
    if tensors and verbose:
        block(
            "Tensors",
            [
                [
                    "",
                    str(t.get("name")),
                    str(t.get("type")),
                    "[" + " ".join(map(str, t.get("shape", []))) + "]",
                ]
                for t in tensors
            ],
        )
    if resp.get("system"):
        block("System", _head(str(resp["system"]), 2))
    if resp.get("license"):
        lic = resp["license"]
        block("License", _head("\n".join(lic) if isinstance(lic, list) else str(lic), 2))
    return "".join(parts)
