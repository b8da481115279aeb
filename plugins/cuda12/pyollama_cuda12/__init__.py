"""ggml's CUDA backend for pyollama, CUDA 12 (NVIDIA driver 525 or newer).

pyollama's engine finds this package through its `pyollama.backends` entry point, checks that
`pin.txt` names the llama.cpp tree the engine was built from, and loads the library with ggml's
backend loader. Nothing here is imported by anything else.
"""

BACKEND = "cuda"  # ggml's backend (the library is libggml-cuda.so, ggml-cuda.dll on Windows)
CUDA_MAJOR = 12
# where NVIDIA's wheels (nvidia-cuda-runtime-cu12, nvidia-cublas-cu12) put their libraries
RUNTIME_DIRS = ("nvidia/cuda_runtime/lib", "nvidia/cublas/lib", "nvidia/cuda_runtime/bin", "nvidia/cublas/bin")
RUNTIME_LIBS = ("cudart", "cublasLt", "cublas")
