# The C ABI of csrc/pyollama_engine.h, declared for Cython. Everything is nogil: the .pyx releases
# the GIL around each call that can block.
from libc.stdint cimport int64_t


cdef extern from "pyollama_engine.h" nogil:
    ctypedef enum po_status:
        PO_OK
        PO_AGAIN
        PO_EOF
        PO_ERR_INVALID
        PO_ERR_LOAD
        PO_ERR_STATE
        PO_ERR_GGUF
        PO_ERR_NOT_FOUND
        PO_ERR_INTERNAL
        PO_ERR_CANCELLED

    ctypedef struct po_server:
        pass

    ctypedef struct po_stream:
        pass

    ctypedef struct po_quantize_job:
        pass

    ctypedef struct po_chunk:
        int http_status
        int is_stream
        int is_last
        char * data
        size_t len

    void po_init(int log_verbosity)
    void po_set_log_verbosity(int log_verbosity)
    const char * po_version()
    const char * po_build_json()
    void po_free(void * p)

    po_status po_backend_load(const char * path, char ** name_out, char ** err)
    po_status po_devices(char ** json_out, char ** err)
    po_status po_rpc_server_run(const char * endpoint, int n_threads, const char * devices,
                                const char * cache_dir, char ** err)

    po_status po_server_create(const char * config_json, po_server ** out, char ** err)
    po_status po_server_load(po_server * srv, char ** err)
    po_status po_server_start(po_server * srv, char ** err)
    po_status po_server_metadata(po_server * srv, char ** json_out, char ** err)
    po_status po_server_submit(po_server * srv, const char * route, const char * body, size_t body_len,
                               po_stream ** out, char ** err)
    void po_server_stop(po_server * srv)
    void po_server_free(po_server * srv)
    void po_server_release(po_server * srv)

    int po_stream_fd(po_stream * st)
    ctypedef void (*po_notify_fn)(void * user) noexcept
    po_status po_stream_set_notify(po_stream * st, po_notify_fn fn, void * user, char ** err)
    po_status po_stream_next(po_stream * st, int timeout_ms, po_chunk * out, char ** err)
    void po_stream_cancel(po_stream * st)
    void po_stream_free(po_stream * st)

    po_status po_gguf_read(const char * path, int64_t max_array_len, char ** json_out, char ** err)

    po_status po_quantize_start(const char * src, const char * dst, const char * options_json,
                                po_quantize_job ** out, char ** err)
    int po_quantize_fd(po_quantize_job * job)
    po_status po_quantize_poll(po_quantize_job * job, int timeout_ms, int64_t * done, int64_t * total,
                               char ** err)
    void po_quantize_cancel(po_quantize_job * job)
    void po_quantize_free(po_quantize_job * job)
