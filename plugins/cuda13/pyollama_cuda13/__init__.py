"""ggml's CUDA backend for pyollama, CUDA 13 (NVIDIA driver 580 or newer).

pyollama's engine finds this package through its `pyollama.backends` entry point, checks that
`pin.txt` names the llama.cpp tree the engine was built from, and loads the library with ggml's
backend loader. Nothing here is imported by anything else.
"""

BACKEND = "cuda"  # ggml's backend (the library is libggml-cuda.so, ggml-cuda.dll on Windows)
CUDA_MAJOR = 13
# where NVIDIA's wheels (nvidia-cuda-runtime, nvidia-cublas) put their libraries, under site-packages
RUNTIME_DIRS = ("nvidia/cu13/lib", "nvidia/cu13/bin")
RUNTIME_LIBS = ("cudart", "cublasLt", "cublas")
