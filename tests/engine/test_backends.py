"""Backend plugins (discovery, pin and driver checks, loading), the CPU variant and device lists."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import pytest

from pyollama.engine import backends
from pyollama.engine.backends import Backend, BuildInfo, Device, PluginResult
from pyollama.errors import EngineError, EngineStateError
from tests.conftest import requires_engine

PIN = "llama.cpp-0c1e570"


class FakeEngine:
    """The extension's backend calls: a portable build (backend_dl) unless told otherwise."""

    def __init__(self, *, pin: str = PIN, backend_dl: bool = True, fail: str | None = None) -> None:
        self.build = {"pin": pin, "backend_dl": backend_dl}
        self.fail = fail
        self.loaded: list[str] = []
        self.inits = 0

    def init(self, level: int = -1) -> None:
        self.inits += 1

    def build_json(self) -> str:
        return json.dumps(self.build)

    def load_backend(self, path: str) -> str:
        if self.fail is not None:
            raise EngineError(self.fail)
        self.loaded.append(path)
        return "CUDA"

    def devices(self) -> str:
        return json.dumps(
            {
                "backends": [
                    {"name": "CPU", "path": "/x/libggml-cpu-haswell.so", "devices": 1,
                     "features": {"AVX2": "1"}},
                    {"name": "CUDA", "path": "/y/libggml-cuda.so", "devices": 1, "features": {}},
                ],
                "devices": [
                    {"name": "CPU", "description": "EPYC", "type": "cpu", "backend": "CPU",
                     "memory_free": 8 << 30, "memory_total": 16 << 30},
                    {"name": "CUDA0", "description": "NVIDIA H200", "type": "gpu", "backend": "CUDA",
                     "memory_free": 100 << 30, "memory_total": 140 << 30},
                ],
            }
        )  # fmt: skip


def make_plugin(
    root: Path, package: str, *, pin: str = PIN, backend: str = "cuda", cuda_major: int | None = 13
) -> metadata.EntryPoint:
    """A plugin package as a plugin wheel installs it, and its entry point."""
    folder = root / package
    folder.mkdir(parents=True)
    lines = [f"BACKEND = {backend!r}", 'RUNTIME_DIRS = ("nvidia/cu13/lib",)', 'RUNTIME_LIBS = ("cudart",)']
    if cuda_major is not None:
        lines.append(f"CUDA_MAJOR = {cuda_major}")
    (folder / "__init__.py").write_text("\n".join(lines) + "\n")
    (folder / "pin.txt").write_text(pin + "\n")
    (folder / f"libggml-{backend}.so").write_bytes(b"\x7fELF")
    name = package.removeprefix("fake_")
    return metadata.EntryPoint(name=name, value=package, group=backends.ENTRY_POINT_GROUP)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_a_matching_plugin_is_loaded_into_the_engine(site: Path) -> None:
    ep = make_plugin(site, "fake_cuda13")
    engine = FakeEngine()
    results = backends.load_plugins(engine, [ep], driver_version=lambda: 13000)
    library = site / "fake_cuda13" / "libggml-cuda.so"
    assert results == [PluginResult("cuda13", True, f"loaded {library}", "CUDA")]
    assert engine.loaded == [str(library)]


def test_a_plugin_from_another_tree_is_refused(site: Path) -> None:
    ep = make_plugin(site, "fake_cuda13b", pin="llama.cpp-deadbee")
    engine = FakeEngine()
    [result] = backends.load_plugins(engine, [ep], driver_version=lambda: 13000)
    assert not result.loaded and engine.loaded == []
    assert "llama.cpp-deadbee" in result.message and PIN in result.message
    assert "same llama.cpp tree" in result.message


def test_no_driver_means_no_cuda_device_and_nothing_loaded(site: Path) -> None:
    ep = make_plugin(site, "fake_cuda13c")
    engine = FakeEngine()
    [result] = backends.load_plugins(engine, [ep], driver_version=lambda: None)
    assert not result.loaded and engine.loaded == []
    assert "no CUDA device was found" in result.message


def test_a_driver_too_old_for_cuda_13_says_so(site: Path) -> None:
    ep = make_plugin(site, "fake_cuda13d")
    [result] = backends.load_plugins(FakeEngine(), [ep], driver_version=lambda: 12080)
    assert not result.loaded
    assert "supports CUDA 12.8" in result.message
    assert "driver 580 or newer" in result.message
    assert '"pyollama[cuda12]"' in result.message


def test_a_non_cuda_plugin_needs_no_driver_check(site: Path) -> None:
    ep = make_plugin(site, "fake_vulkan", backend="vulkan", cuda_major=None)

    def never() -> int | None:
        raise AssertionError("no CUDA check for Vulkan")

    [result] = backends.load_plugins(FakeEngine(), [ep], driver_version=never)
    assert result.loaded


def test_a_source_build_loads_no_plugin(site: Path) -> None:
    ep = make_plugin(site, "fake_cuda13e")
    [result] = backends.load_plugins(FakeEngine(backend_dl=False), [ep], driver_version=lambda: 13000)
    assert not result.loaded and "source build" in result.message


def test_the_engines_reason_is_kept_when_the_library_fails(site: Path) -> None:
    ep = make_plugin(site, "fake_cuda13f")
    engine = FakeEngine(fail="cannot load backend x: libcublas.so.13: cannot open shared object file")
    [result] = backends.load_plugins(engine, [ep], driver_version=lambda: 13000)
    assert not result.loaded and "libcublas.so.13" in result.message


def test_a_broken_plugin_does_not_stop_the_others(site: Path) -> None:
    broken = metadata.EntryPoint(name="broken", value="no_such_module_xyz", group=backends.ENTRY_POINT_GROUP)
    good = make_plugin(site, "fake_cuda13g")
    results = backends.load_plugins(FakeEngine(), [broken, good], driver_version=lambda: 13000)
    assert [(r.plugin, r.loaded) for r in results] == [("broken", False), ("cuda13g", True)]
    assert "cannot be imported" in results[0].message


def test_a_plugin_package_without_its_init_is_reported_not_loaded(site: Path) -> None:
    # what a plugin wheel built with its package files excluded installs: a namespace package
    ep = make_plugin(site, "fake_cuda13ns")
    (site / "fake_cuda13ns" / "__init__.py").unlink()
    engine = FakeEngine()
    [result] = backends.load_plugins(engine, [ep], driver_version=lambda: 13000)
    assert not result.loaded and engine.loaded == []
    assert "has no __init__.py" in result.message


def test_plugin_wheels_keep_their_package_files() -> None:
    """scikit-build-core applies `sdist.exclude` to the files `wheel.packages` copies too: a plugin
    that excluded everything from its sdist shipped a wheel without its `__init__.py`."""
    import tomllib

    pathspec = pytest.importorskip("pathspec")
    plugins = sorted((Path(__file__).resolve().parents[2] / "plugins").glob("*/pyproject.toml"))
    assert len(plugins) == 4
    for pyproject in plugins:
        skb = tomllib.loads(pyproject.read_text())["tool"]["scikit-build"]
        [package] = skb["wheel"]["packages"]
        assert (pyproject.parent / package / "__init__.py").is_file()
        excluded = pathspec.GitIgnoreSpec.from_lines(skb.get("sdist", {}).get("exclude", []))
        assert not excluded.match_file(f"{package}/__init__.py"), pyproject


def test_no_plugins_does_not_touch_the_engine() -> None:
    engine = FakeEngine()
    assert backends.load_plugins(engine, [], driver_version=lambda: None) == []
    assert engine.inits == 0


def test_inventory_and_gpu_memory() -> None:
    found, devices = backends.inventory(FakeEngine())
    assert [b.variant for b in found] == ["haswell", "libggml-cuda.so"]
    assert [d.is_gpu for d in devices] == [False, True]
    assert backends.gpu_free_memory(FakeEngine()) == 100 << 30


def test_describe_names_the_cpu_variant_and_each_device() -> None:
    found, devices = backends.inventory(FakeEngine())
    loaded = PluginResult("cuda13", True, "loaded /y/libggml-cuda.so", "CUDA")
    lines = backends.describe(found, devices, [loaded])
    assert lines[0].startswith("CPU backend: variant haswell (/x/libggml-cpu-haswell.so) features: AVX2")
    assert "plugin cuda13: loaded /y/libggml-cuda.so" in lines
    gpu = "device CUDA0 (gpu, CUDA): NVIDIA H200, 100.0 GiB free of 140.0 GiB"
    assert gpu in lines
    assert not any("no GPU" in line for line in lines)


def test_cpu_variant_names() -> None:
    assert Backend("CPU", "/e/libggml-cpu-skylakex.so", 1).variant == "skylakex"
    assert Backend("CPU", "C:/e/ggml-cpu-haswell.dll", 1).variant == "haswell"
    assert Backend("CPU", "/e/libggml-cpu.so", 1).variant == "baseline"
    assert Backend("CPU", "/e/_engine.cpython-312-darwin.so", 1).variant == "built-in"


def test_describe_says_when_there_is_no_gpu() -> None:
    cpu = Backend("CPU", "/p/_engine.cpython-311-x86_64-linux-gnu.so", 1, {"AVX2": "1", "AVX512": "0"})
    cuda = Backend("CUDA", "/y/libggml-cuda.so", 0)
    device = Device("CPU", "EPYC", "cpu", "CPU", 1 << 30, 2 << 30)
    lines = backends.describe([cpu, cuda], [device], [])
    assert lines[0] == f"CPU backend: variant built-in ({cpu.path}) features: AVX2"
    assert "CUDA backend: loaded, but found no CUDA device (/y/libggml-cuda.so)" in lines
    assert lines[-1] == "no GPU device: inference runs on the CPU"


def test_cuda_driver_version_is_none_or_a_cuda_version() -> None:
    version = backends.cuda_driver_version()  # no driver on the CI machines: None
    assert version is None or version >= 1000


@requires_engine
def test_the_real_engine_reports_its_pin_cpu_and_devices() -> None:
    from pyollama.engine import _engine

    info = backends.build_info()
    assert isinstance(info, BuildInfo) and info.pin.startswith("llama.cpp-")
    found, devices = backends.inventory()
    cpu = [b for b in found if b.name == "CPU"]
    assert cpu and Path(cpu[0].path).is_file()
    assert cpu[0].variant != ""
    assert any(d.type == "cpu" and d.memory_total > 0 for d in devices)
    if not info.backend_dl:
        with pytest.raises(EngineStateError, match="source build"):
            _engine.load_backend("/nonexistent/libggml-cuda.so")
    else:
        with pytest.raises(EngineError, match="cannot load backend"):
            _engine.load_backend("/nonexistent/libggml-cuda.so")
