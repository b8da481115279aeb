#!/usr/bin/env bash
# pyollama on an NVIDIA GPU against llama.cpp's own llama-server with CUDA, from the same tree and
# the very same ggml libraries, in one prepared run that fits in 10 minutes.
#
#   bench/gpu.sh prepare   here (network: PyPI): fill .gpu/ with everything the GPU machine cannot
#                          fetch (it has none): the portable pyollama wheel for its Python, the
#                          pyollama-cuda13 plugin wheel, llama-server/llama-bench built with that
#                          wheel, the dependency wheels, the tokenizer for the bench model, and the
#                          llama.cpp source (to build the plugin there when no wheel was made)
#   bench/gpu.sh [run]     there, from the repo root with .gpu/ carried (as `carry: [".gpu"]`):
#                          1. prints the NVIDIA driver (nvidia-smi) and nvcc versions
#                          2. installs the wheels (no index) into $GPU_SITE, or builds the CUDA
#                             plugin there with all cores when .gpu/ holds no plugin wheel
#                          3. prints what the engine found: CPU variant, plugin, devices
#                          4. makes the bench model (random weights, a real tokenizer)
#                          5. runs bench/bench_engine.py and bench/bench_serve.py against
#                             llama-server/llama-bench using the same libggml-*.so files
#                          6. prints both tables (ratios pyollama / llama.cpp); JSON in $OUT or .gpu/
#
# On a machine without a GPU every step runs too (the plugin says no CUDA device was found and
# both sides run on the CPU): that is how this script is tested, with a venv that holds only
# numpy and pyyaml (what the GPU image has that the carried wheels rely on: gguf needs both):
#   GPU_PREPARE_PYTHONS=python3.11 bash bench/gpu.sh prepare && GPU_PY=/tmp/venv/bin/python bash bench/gpu.sh
#
#   GPU_PY          the Python to use (default python3; its version picks the pyollama wheel)
#   GPU_SITE        where the wheels are installed (default /tmp/pyollama-gpu-site)
#   GPU_MODEL_DIMS  n_embd,n_layer,n_head,n_head_kv,n_ff of the bench model (default 1024,16,16,4,4096)
#   GPU_REPS        repetitions per measurement (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
G=$ROOT/.gpu
MODE=${1:-run}
PY=${GPU_PY:-python3}

prepare() {
    # the Python of the GPU machine (3.12 there); to test the run here first, name this one
    # (GPU_PREPARE_PYTHONS=python3.11): a wheel per Python would not fit in the 64 MiB carry
    local pythons=${GPU_PREPARE_PYTHONS:-"python3.12"}
    mkdir -p "$G/wheels" "$G/llama"
    rm -f "$G"/wheels/*.whl "$G"/llama/*
    local py tag
    for py in $pythons; do
        "$py" -c "" 2>/dev/null || { echo "gpu.sh: $py does not run here (skipped)"; continue; }  # pyenv shims exist for versions not selected
        tag=$("$py" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
        if ! ls wheelhouse/pyollama-*-"$tag"-*manylinux*.whl >/dev/null 2>&1; then
            PYTHON=$py PYOLLAMA_WHEEL_VENV=build/wheel-venv-$tag bash scripts/wheel
        fi
        cp wheelhouse/pyollama-*-"$tag"-*manylinux*.whl "$G/wheels/"
        "$py" -m pip download -q --no-deps --only-binary=:all: -d "$G/wheels" \
            --python-version "${tag#cp}" --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
            --platform manylinux2014_x86_64 "msgspec>=0.18" "aiohttp>=3.14" multidict yarl frozenlist propcache 2>&1 | grep -v "is ignored" || true
    done
    # the pure-Python dependencies (the run uses these, whatever versions the image has) and gguf
    # (the bench model is written there)
    "$PY" -m pip download -q --no-deps --only-binary=:all: -d "$G/wheels" \
        "platformdirs>=4" "prompt-toolkit>=3.0.40" wcwidth "prometheus-client>=0.20" "gguf>=0.10" \
        aiosignal aiohappyeyeballs attrs idna typing-extensions 2>&1 | grep -v "is ignored" || true
    if ls wheelhouse/pyollama_cuda13-*.whl >/dev/null 2>&1; then
        cp wheelhouse/pyollama_cuda13-*.whl "$G/wheels/"
    else
        echo "gpu.sh: no pyollama_cuda13 wheel in wheelhouse/ (scripts/wheel-cuda): the run builds it there"
        tar -czf "$G/src.tar.gz" --exclude='vendor/llama.cpp/models' --exclude='vendor/llama.cpp/docs' \
            --exclude='vendor/llama.cpp/examples' --exclude='vendor/llama.cpp/tools/server/public*' \
            --exclude='vendor/llama.cpp/tools/ui' --exclude='.git' \
            -h CMakeLists.txt pyproject.toml csrc plugins vendor pyollama/engine/_engine.pyx \
            pyollama/engine/_engine_abi.pxd
    fi
    # llama.cpp's own server and bench from the portable build (they load the same libggml-*.so)
    local b
    b=$(ls -d build/portable-cp3*-*/ | head -1)
    cmake --build "$b" --target llama-server llama-bench -j "$(nproc)" >/dev/null
    cp "$b/bin/llama-server" "$b/bin/llama-bench" "$G/llama/"
    for lib in "$b"/bin/lib*.so; do
        case $(basename "$lib") in
            libggml*|libllama.so|libllama-common.so|libmtmd.so) ;;  # the wheel's own copies are used
            *) cp "$lib" "$G/llama/" ;;
        esac
    done
    cp vendor/llama.cpp/models/ggml-vocab-llama-spm.gguf "$G/"
    du -sh "$G"
    # what a device run carries: the tracked files and .gpu/, 64 MiB in all
    local mib
    mib=$(( ($(du -sb "$G" | cut -f1) + $(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)) >> 20 ))
    if [ "$mib" -ge 64 ]; then
        echo "gpu.sh: .gpu/ and the tracked files are $mib MiB: over the 64 MiB a device run carries"
        exit 1
    fi
    echo "gpu.sh: $mib MiB to carry (tracked files + .gpu/)"
    echo "gpu.sh: .gpu/ is ready; on the GPU machine: bash bench/gpu.sh (carry .gpu, at most 64 MiB)"
}

run() {
    local out=${OUT:-$G/out}
    local site=${GPU_SITE:-/tmp/pyollama-gpu-site}
    local t0=$SECONDS
    mkdir -p "$out"
    echo "== 1. driver"
    if command -v nvidia-smi >/dev/null; then
        nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
    else
        echo "no nvidia-smi: no NVIDIA driver on this machine"
    fi
    command -v nvcc >/dev/null && nvcc --version | tail -2 || echo "no nvcc"
    "$PY" --version

    echo "== 2. install (no index)"
    local tag
    tag=$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
    rm -rf "$site"
    local wheels=("$G"/wheels/pyollama-*-"$tag"-*.whl)
    [ -e "${wheels[0]}" ] || { echo "gpu.sh: no pyollama wheel for $tag in .gpu/wheels (bench/gpu.sh prepare)"; exit 1; }
    for w in "$G"/wheels/*.whl; do
        case $(basename "$w") in
            pyollama-*) ;;
            msgspec-*|cffi-*|aiohttp-*|multidict-*|yarl-*|frozenlist-*|propcache-*)
                [[ $(basename "$w") == *-"$tag"-* ]] && wheels+=("$w") ;;
            *) wheels+=("$w") ;;
        esac
    done
    if ! ls "$G"/wheels/pyollama_cuda13-*.whl >/dev/null 2>&1 && [ -f "$G/src.tar.gz" ]; then
        echo "building pyollama-cuda13 here with $(nproc) cores (CUDA architecture 90)"
        local src=/tmp/pyollama-gpu-src
        rm -rf "$src" && mkdir -p "$src" && tar -xzf "$G/src.tar.gz" -C "$src"
        local tb=$SECONDS
        (cd "$src" && PYOLLAMA_CUDA_ARCHS=90 CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) CUDACXX=$(command -v nvcc) \
            "$PY" -m pip wheel plugins/cuda13 --no-build-isolation --no-deps -w "$G/wheels" -q)
        echo "plugin built in $((SECONDS - tb)) s"
    fi
    wheels+=("$G"/wheels/pyollama_cuda13-*.whl)
    "$PY" -m pip install -q --no-index --no-deps --no-compile --target "$site" "${wheels[@]}"
    export PYTHONPATH=$site PYOLLAMA_BENCH_PYTHONPATH=$site
    # run from a copy of bench/ and tests/ without the source package: the benches put their
    # parent folder first on sys.path, and the checkout's pyollama/ has no built engine there
    local work=/tmp/pyollama-gpu-work
    rm -rf "$work" && mkdir -p "$work"
    cp -r "$ROOT/bench" "$ROOT/tests" "$work/"
    cd "$work"
    "$PY" -c 'import pyollama, sys; sys.exit(0 if pyollama.__file__.startswith(sys.argv[1]) else "gpu.sh: pyollama is not the installed wheel: " + pyollama.__file__)' "$site"

    echo "== 3. what the engine found"
    "$PY" - <<'EOF'
import pyollama.server.app  # the daemon's imports: a missing dependency fails here, not in the bench
from pyollama import engine
from pyollama.engine import backends

engine.init(0)
results = backends.load_plugins()
for line in backends.describe(*backends.inventory(), results):
    print(line)
EOF

    echo "== 4. bench model"
    local model=/tmp/pyollama-gpu-bench.gguf
    GPU_MODEL_DIMS=${GPU_MODEL_DIMS:-1024,16,16,4,4096} "$PY" - "$G/ggml-vocab-llama-spm.gguf" "$model" <<'EOF'
import os
import sys
from pathlib import Path

sys.path.insert(0, os.getcwd())
from tests.gguf_factory import make_tiny_llama

e, l, h, kv, ff = (int(x) for x in os.environ["GPU_MODEL_DIMS"].split(","))
make_tiny_llama(Path(sys.argv[2]), Path(sys.argv[1]), n_embd=e, n_layer=l, n_head=h, n_head_kv=kv, n_ff=ff, n_ctx=8192)
print(f"{sys.argv[2]}: {Path(sys.argv[2]).stat().st_size / 2**20:.0f} MiB (random weights, llama, {l} layers x {e})")
EOF

    echo "== 5. llama.cpp beside the same libraries"
    local llama=/tmp/pyollama-gpu-llama
    rm -rf "$llama" && mkdir -p "$llama"
    cp "$G"/llama/* "$llama/"
    cp "$site"/pyollama/engine/lib*.so "$llama/"
    cp "$site"/pyollama_cuda13/libggml-cuda.so "$llama/" 2>/dev/null || true
    local nvlib
    nvlib=$("$PY" -c 'import nvidia, os; print(os.path.join(list(nvidia.__path__)[0], "cu13", "lib"))' 2>/dev/null || true)
    export LD_LIBRARY_PATH=$llama${nvlib:+:$nvlib}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export PYOLLAMA_LLAMA_BIN=$llama
    "$llama/llama-server" --version 2>&1 | tail -2 || true
    "$llama/llama-server" --list-devices 2>&1 | tail -4 || true

    echo "== 6. benchmarks ($(( SECONDS - t0 )) s so far)"
    local threads=${GPU_THREADS:-$(nproc)} reps=${GPU_REPS:-3}
    "$PY" bench/bench_engine.py --model "$model" --threads "$threads" --reps "$reps" --json "$out/engine.json"
    "$PY" bench/bench_serve.py --model "$model" --threads "$threads" --reps "$reps" --ping-requests 1000 \
        --json "$out/serve.json"
    echo "gpu.sh: done in $(( SECONDS - t0 )) s; numbers in $out"
}

case $MODE in
    prepare) prepare ;;
    run) run ;;
    *) echo "usage: bench/gpu.sh [prepare|run]"; exit 2 ;;
esac
