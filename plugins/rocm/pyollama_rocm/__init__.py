"""ggml's HIP backend for pyollama (AMD GPUs; the system's ROCm 6 runtime).

pyollama's engine finds this package through its `pyollama.backends` entry point, checks that
`pin.txt` names the llama.cpp tree the engine was built from, and loads the library with ggml's
backend loader. Nothing here is imported by anything else.
"""

BACKEND = "hip"  # ggml's backend (the library is libggml-hip.so, ggml-hip.dll on Windows)
RUNTIME_DIRS: tuple[str, ...] = ()
RUNTIME_LIBS: tuple[str, ...] = ()
