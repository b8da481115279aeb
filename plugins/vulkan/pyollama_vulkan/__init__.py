"""ggml's Vulkan backend for pyollama (the system's Vulkan loader and GPU driver).

pyollama's engine finds this package through its `pyollama.backends` entry point, checks that
`pin.txt` names the llama.cpp tree the engine was built from, and loads the library with ggml's
backend loader. Nothing here is imported by anything else.
"""

BACKEND = "vulkan"  # ggml's backend (the library is libggml-vulkan.so, ggml-vulkan.dll on Windows)
RUNTIME_DIRS: tuple[str, ...] = ()
RUNTIME_LIBS: tuple[str, ...] = ()
