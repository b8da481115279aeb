/* A link-time stand-in for the NVIDIA driver library (libcuda.so.1), for building the CUDA plugin
 * from PyPI's CUDA packages, which ship no driver stub. ggml-cuda calls these driver functions
 * for its virtual-memory pool; at run time the real driver's libcuda.so.1 is loaded instead (this
 * file is never shipped). Every function fails as the toolkit's own stub does. */
#include <cuda.h>

#define STUB return CUDA_ERROR_STUB_LIBRARY

CUresult CUDAAPI cuInit(unsigned int flags) { (void) flags; STUB; }
CUresult CUDAAPI cuDriverGetVersion(int * v) { (void) v; STUB; }
CUresult CUDAAPI cuDeviceGet(CUdevice * d, int ordinal) { (void) d; (void) ordinal; STUB; }
CUresult CUDAAPI cuDeviceGetAttribute(int * pi, CUdevice_attribute a, CUdevice d) { (void) pi; (void) a; (void) d; STUB; }
CUresult CUDAAPI cuGetErrorString(CUresult e, const char ** s) { (void) e; (void) s; STUB; }
CUresult CUDAAPI cuMemAddressReserve(CUdeviceptr * p, size_t n, size_t al, CUdeviceptr addr, unsigned long long f) {
    (void) p; (void) n; (void) al; (void) addr; (void) f; STUB;
}
CUresult CUDAAPI cuMemAddressFree(CUdeviceptr p, size_t n) { (void) p; (void) n; STUB; }
CUresult CUDAAPI cuMemCreate(CUmemGenericAllocationHandle * h, size_t n, const CUmemAllocationProp * pr,
                             unsigned long long f) {
    (void) h; (void) n; (void) pr; (void) f; STUB;
}
CUresult CUDAAPI cuMemRelease(CUmemGenericAllocationHandle h) { (void) h; STUB; }
CUresult CUDAAPI cuMemMap(CUdeviceptr p, size_t n, size_t off, CUmemGenericAllocationHandle h, unsigned long long f) {
    (void) p; (void) n; (void) off; (void) h; (void) f; STUB;
}
CUresult CUDAAPI cuMemUnmap(CUdeviceptr p, size_t n) { (void) p; (void) n; STUB; }
CUresult CUDAAPI cuMemSetAccess(CUdeviceptr p, size_t n, const CUmemAccessDesc * d, size_t c) {
    (void) p; (void) n; (void) d; (void) c; STUB;
}
CUresult CUDAAPI cuMemGetAllocationGranularity(size_t * g, const CUmemAllocationProp * pr,
                                               CUmemAllocationGranularity_flags o) {
    (void) g; (void) pr; (void) o; STUB;
}
