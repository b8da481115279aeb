"""ggml backends: which CPU variant runs, which GPU plugins are installed and loaded, and devices.

A portable engine (the wheels) loads the best of ggml's CPU variants for this machine from its own
folder when it initialises. GPU backends are wheels of their own (`pip install "pyollama[cuda13]"`)
holding one ggml backend library; each declares a `pyollama.backends` entry point naming a small
package (`BACKEND`, `RUNTIME_DIRS`, `RUNTIME_LIBS`, `CUDA_MAJOR`) beside which lie the library and
`pin.txt`, the llama.cpp tree it was built from. `load_plugins()` refuses a plugin of another tree
(ggml's backend interface is not stable between commits), checks what the backend needs of the
machine (an NVIDIA driver new enough for the plugin's CUDA), makes NVIDIA's runtime wheels findable
and hands the library to the engine. A source build links its backends in and loads no plugins.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

from pyollama.errors import EngineError

ENTRY_POINT_GROUP = "pyollama.backends"

# The oldest NVIDIA driver for each CUDA major version (CUDA's minor-version compatibility: any
# driver of the major's first release runs code built by a later minor release)
CUDA_MIN_DRIVER = {12: "525", 13: "580"}


@dataclass(frozen=True)
class BuildInfo:
    """The engine's own build: its llama.cpp tree and whether it loads backends at run time."""

    pin: str
    backend_dl: bool


@dataclass(frozen=True)
class Plugin:
    """An installed backend plugin, as found through its entry point."""

    name: str  # the entry point's name: cuda13, cuda12, vulkan, rocm
    distribution: str  # the wheel's name: pyollama-cuda13
    backend: str  # ggml's backend: cuda, vulkan, hip
    folder: Path
    pin: str
    runtime_dirs: tuple[str, ...] = ()
    runtime_libs: tuple[str, ...] = ()
    cuda_major: int | None = None

    @property
    def library(self) -> Path:
        if sys.platform == "win32":
            return self.folder / f"ggml-{self.backend}.dll"
        return self.folder / f"libggml-{self.backend}.so"


@dataclass(frozen=True)
class PluginResult:
    """What became of one plugin: loaded (its ggml backend's name) or not, and why."""

    plugin: str
    loaded: bool
    message: str
    backend: str = ""


@dataclass(frozen=True)
class Backend:
    """A loaded ggml backend and the library it lives in."""

    name: str
    path: str
    devices: int
    features: dict[str, str] = field(default_factory=dict)

    @property
    def variant(self) -> str:
        """The CPU variant (`haswell`, `skylakex`, ... from libggml-cpu-haswell.so), or "built-in"
        when the backend is linked into the extension (a source build)."""
        stem = Path(self.path).name
        if stem in ("libggml-cpu.so", "ggml-cpu.dll"):
            return "baseline"  # a portable build of one CPU library (PYOLLAMA_CPU_VARIANTS=OFF)
        for prefix in ("libggml-cpu-", "ggml-cpu-"):
            if stem.startswith(prefix):
                return stem[len(prefix) :].split(".")[0]
        return "built-in" if "_engine" in stem else stem


@dataclass(frozen=True)
class Device:
    """A device one of the backends exposes, with its memory now."""

    name: str
    description: str
    type: str  # cpu, gpu, igpu, accel
    backend: str
    memory_free: int
    memory_total: int

    @property
    def is_gpu(self) -> bool:
        return self.type in ("gpu", "igpu")


def build_info(engine: Any = None) -> BuildInfo:
    raw = json.loads(_engine(engine).build_json())
    return BuildInfo(pin=str(raw.get("pin", "")), backend_dl=bool(raw.get("backend_dl", False)))


def _engine(engine: Any) -> Any:
    if engine is not None:
        return engine
    from pyollama.engine import _engine as ext

    return ext


def _plugin_from(name: str, distribution: str, module: ModuleType) -> Plugin:
    folder = Path(module.__file__ or "").parent
    try:
        pin = (folder / "pin.txt").read_text(encoding="utf-8").strip()
    except OSError:
        pin = ""
    major = getattr(module, "CUDA_MAJOR", None)
    return Plugin(
        name=name,
        distribution=distribution,
        backend=str(getattr(module, "BACKEND", name)),
        folder=folder,
        pin=pin,
        runtime_dirs=tuple(getattr(module, "RUNTIME_DIRS", ())),
        runtime_libs=tuple(getattr(module, "RUNTIME_LIBS", ())),
        cuda_major=int(major) if isinstance(major, int) else None,
    )


def discover_plugins(
    entry_points: Iterable[metadata.EntryPoint] | None = None,
) -> tuple[list[Plugin], list[PluginResult]]:
    """The installed plugins, and one failure for each entry point whose package cannot be imported."""
    eps = metadata.entry_points(group=ENTRY_POINT_GROUP) if entry_points is None else entry_points
    plugins: list[Plugin] = []
    broken: list[PluginResult] = []
    for ep in eps:
        dist = ep.dist.name if ep.dist is not None else ep.name
        try:
            module = ep.load()
        except Exception as exc:  # a broken install must not stop the daemon
            broken.append(PluginResult(ep.name, False, f"{dist} cannot be imported: {exc}"))
            continue
        if not isinstance(module, ModuleType):
            broken.append(PluginResult(ep.name, False, f"{dist}: entry point is not a module"))
            continue
        if getattr(module, "__file__", None) is None:  # a namespace package: the wheel lost its code
            why = f"{dist} is incomplete: {module.__name__} has no __init__.py (reinstall it)"
            broken.append(PluginResult(ep.name, False, why))
            continue
        plugins.append(_plugin_from(ep.name, dist, module))
    return plugins, broken


def cuda_driver_version() -> int | None:
    """The CUDA version the NVIDIA driver supports (13000 for 13.0), or None without a driver.

    cuDriverGetVersion needs no cuInit and no device, so this is safe on any machine.
    """
    names = ["nvcuda.dll"] if sys.platform == "win32" else ["libcuda.so.1", "libcuda.so"]
    for name in names:
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        version = ctypes.c_int(0)
        try:
            if lib.cuDriverGetVersion(ctypes.byref(version)) == 0:
                return version.value
        except AttributeError:
            return None
    return None


def check_plugin(
    plugin: Plugin, build: BuildInfo, driver_version: Callable[[], int | None] = cuda_driver_version
) -> str | None:
    """Why `plugin` cannot be loaded into this engine, or None when it can."""
    if not build.backend_dl:
        return (
            f"{plugin.distribution} is installed, but this pyollama is a source build with its backends "
            "linked in (plugins load into the pyollama wheel, or a PYOLLAMA_PORTABLE=ON build)"
        )
    if plugin.pin != build.pin:
        return (
            f"{plugin.distribution} was built from {plugin.pin or 'an unknown tree'}, this pyollama from "
            f"{build.pin}: a backend must come from the same llama.cpp tree; install the matching "
            f'versions (pip install --upgrade "pyollama[{plugin.name}]")'
        )
    if not plugin.library.is_file():
        return f"{plugin.distribution} is incomplete: {plugin.library} is missing"
    if plugin.cuda_major is not None:
        version = driver_version()
        need = CUDA_MIN_DRIVER.get(plugin.cuda_major, "?")
        if version is None:
            return (
                f"no CUDA device was found (no NVIDIA driver on this machine); {plugin.distribution} "
                "is not loaded"
            )
        if version // 1000 < plugin.cuda_major:
            older = [m for m in sorted(CUDA_MIN_DRIVER) if m <= version // 1000]
            hint = f'; use "pyollama[cuda{older[-1]}]" instead' if older else ""
            return (
                f"the NVIDIA driver supports CUDA {version // 1000}.{version % 1000 // 10}, and "
                f"{plugin.distribution} needs CUDA {plugin.cuda_major} (driver {need} or newer): update the "
                f"driver{hint}"
            )
    return None


def _runtime_folders(plugin: Plugin, paths: Iterable[str]) -> list[Path]:
    """Where NVIDIA's runtime wheels put the libraries the plugin needs, on this sys.path."""
    found = []
    for base in dict.fromkeys(paths):
        for rel in plugin.runtime_dirs:
            folder = Path(base) / rel
            if folder.is_dir():
                found.append(folder)
    return found


def _prepare_runtime(plugin: Plugin) -> None:
    """Make the runtime libraries findable wherever pip put them: on Windows through the DLL search
    path; elsewhere by loading them globally first (the plugin's RPATH covers the usual layout, this
    covers the others, e.g. the plugin in a venv and NVIDIA's wheels in the user site)."""
    folders = _runtime_folders(plugin, sys.path)
    if sys.platform == "win32":
        for folder in folders:
            os.add_dll_directory(str(folder))
        return
    for lib in plugin.runtime_libs:
        for folder in folders:
            candidates = sorted(folder.glob(f"lib{lib}.so.*")) + sorted(folder.glob(f"lib{lib}.*.dylib"))
            if candidates:
                with contextlib.suppress(OSError):  # the engine's own load reports what is missing
                    ctypes.CDLL(str(candidates[0]), mode=ctypes.RTLD_GLOBAL)
                break


def load_plugins(
    engine: Any = None,
    entry_points: Iterable[metadata.EntryPoint] | None = None,
    driver_version: Callable[[], int | None] = cuda_driver_version,
) -> list[PluginResult]:
    """Find, check and load every installed plugin; one result each. Loading one already loaded is
    a no-op in the engine, so this may run at every model load."""
    ext = _engine(engine)
    plugins, results = discover_plugins(entry_points)
    if not plugins:
        return results
    ext.init(-1)
    build = build_info(ext)
    for plugin in plugins:
        reason = check_plugin(plugin, build, driver_version)
        if reason is not None:
            results.append(PluginResult(plugin.name, False, reason))
            continue
        _prepare_runtime(plugin)
        try:
            backend = str(ext.load_backend(str(plugin.library)))
        except EngineError as exc:
            results.append(PluginResult(plugin.name, False, str(exc)))
            continue
        results.append(PluginResult(plugin.name, True, f"loaded {plugin.library}", backend))
    return results


def inventory(engine: Any = None) -> tuple[list[Backend], list[Device]]:
    """The loaded backends and the devices they expose now (memory included)."""
    raw = json.loads(_engine(engine).devices())
    backends = [
        Backend(
            name=str(b.get("name", "")),
            path=str(b.get("path", "")),
            devices=int(b.get("devices", 0)),
            features={str(k): str(v) for k, v in (b.get("features") or {}).items()},
        )
        for b in raw.get("backends", [])
    ]
    devices = [
        Device(
            name=str(d.get("name", "")),
            description=str(d.get("description", "")),
            type=str(d.get("type", "")),
            backend=str(d.get("backend", "")),
            memory_free=int(d.get("memory_free", 0)),
            memory_total=int(d.get("memory_total", 0)),
        )
        for d in raw.get("devices", [])
    ]
    return backends, devices


def gpu_free_memory(engine: Any = None) -> int:
    """Free memory on every GPU together (0 without one): what the scheduler may fill besides RAM."""
    try:
        _, devices = inventory(engine)
    except EngineError:
        return 0
    # RPC devices (a model loaded in this process registers them) are counted by the daemon
    # itself, by asking the servers (pyollama.engine.rpc), not here
    return sum(d.memory_free for d in devices if d.is_gpu and d.backend != "RPC")


def _gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB"


def describe(backends: list[Backend], devices: list[Device], results: list[PluginResult]) -> list[str]:
    """The lines `pyollama serve` logs at start: the CPU variant, each plugin, each device."""
    lines = []
    for b in backends:
        if b.name == "CPU":
            flags = " ".join(k for k, v in b.features.items() if v == "1")
            lines.append(f"CPU backend: variant {b.variant} ({b.path}) features: {flags or 'none'}")
        elif b.devices == 0:
            lines.append(f"{b.name} backend: loaded, but found no {b.name} device ({b.path})")
        else:
            lines.append(f"{b.name} backend: {b.devices} device(s) ({b.path})")
    for r in results:
        lines.append(f"plugin {r.plugin}: {r.message}")
    for d in devices:
        lines.append(
            f"device {d.name} ({d.type}, {d.backend}): {d.description}, "
            f"{_gib(d.memory_free)} free of {_gib(d.memory_total)}"
        )
    if not any(d.is_gpu for d in devices):
        lines.append("no GPU device: inference runs on the CPU")
    return lines


__all__ = [
    "Backend",
    "BuildInfo",
    "Device",
    "Plugin",
    "PluginResult",
    "build_info",
    "check_plugin",
    "cuda_driver_version",
    "describe",
    "discover_plugins",
    "gpu_free_memory",
    "inventory",
    "load_plugins",
]
