# cython: language_level=3, boundscheck=False, wraparound=False
"""Thin Cython wrapper of the C ABI (csrc/pyollama_engine.h).

Small classes, no policy: `Server` (one loaded model) and `Stream` (one request's chunks).
The GIL is released around every call that can block; C status codes become exceptions from
pyollama.errors.
"""

import warnings

from libc.stdint cimport int64_t

from pyollama.engine._engine_abi cimport *

from pyollama.errors import (
    Canceled,
    EngineConfigError,
    EngineError,
    EngineStateError,
    GGUFError,
    ModelLoadError,
)


cdef str _take(char * p):
    """Copy a C string allocated by the glue into Python and free it."""
    if p == NULL:
        return ""
    try:
        return p.decode("utf-8", "replace")
    finally:
        po_free(p)


cdef int _check(po_status rc, char * err) except -1:
    """0 for PO_OK; any other status becomes its exception (the one table of C status codes)."""
    if rc == PO_OK:
        return 0
    msg = _take(err)
    if rc == PO_ERR_INVALID:
        raise EngineConfigError(msg or "invalid argument")
    if rc == PO_ERR_LOAD:
        raise ModelLoadError(msg or "failed to load model")
    if rc == PO_ERR_STATE:
        raise EngineStateError(msg or "engine is not in a state for this call")
    if rc == PO_ERR_GGUF:
        raise GGUFError(msg or "not a valid GGUF file")
    if rc == PO_ERR_NOT_FOUND:
        raise EngineConfigError(msg or "unknown route")
    if rc == PO_ERR_CANCELLED:
        raise Canceled(msg or "cancelled")
    raise EngineError(msg or f"engine error {int(rc)}")


def init(int log_verbosity=-1):
    """Process-wide backend init (idempotent) and log level: 0 errors .. 4 debug, -1 keeps it."""
    with nogil:
        po_init(log_verbosity)


def set_log_verbosity(int log_verbosity):
    with nogil:
        po_set_log_verbosity(log_verbosity)


def version():
    return po_version().decode()


def build_json():
    """{"pin", "backend_dl"} as JSON: the llama.cpp tree of this build, and whether it loads its
    backends at run time (the portable wheels) or links them in (source builds)."""
    return po_build_json().decode()


def load_backend(path):
    """Load a ggml backend library (a plugin) into a portable build; returns the backend's name."""
    cdef bytes p = path.encode() if isinstance(path, str) else bytes(path)
    if b"\0" in p:
        raise EngineConfigError("path contains a NUL byte")
    cdef const char * cp = p
    cdef char * name = NULL
    cdef char * err = NULL
    cdef po_status rc
    with nogil:
        rc = po_backend_load(cp, &name, &err)
    _check(rc, err)
    return _take(name)


def devices():
    """The loaded backends (and their libraries) and devices (with their memory), as JSON."""
    cdef char * out = NULL
    cdef char * err = NULL
    cdef po_status rc
    with nogil:
        rc = po_devices(&out, &err)
    _check(rc, err)
    return _take(out)


def rpc_server_run(endpoint, int n_threads, devices="", cache_dir=""):
    """Serve this machine's devices over ggml's RPC protocol at endpoint ("host:port"); blocks for
    the life of the process (the GIL released). Raises only when the server cannot start. The
    protocol has no authentication: bind loopback unless the network is trusted."""
    cdef bytes e = endpoint.encode()
    cdef bytes d = (devices or "").encode()
    cdef bytes c = (cache_dir or "").encode()
    if b"\0" in e or b"\0" in d or b"\0" in c:
        raise EngineConfigError("argument contains a NUL byte")
    cdef const char * ep = e
    cdef const char * dp = d
    cdef const char * cp = c
    cdef char * err = NULL
    cdef po_status rc
    with nogil:
        rc = po_rpc_server_run(ep, n_threads, dp, cp, &err)
    _check(rc, err)


cdef void _notify(void * user) noexcept with gil:
    """A stream's wake-up, on an engine worker thread: the Python callable registered with
    Stream.set_notify (which must not raise; anything it does raise is dropped here)."""
    try:
        (<object> user)()
    except BaseException:
        pass


def read_gguf(path, int64_t max_array_len=-1):
    """GGUF header as a JSON string (kv, tensors) without loading weights."""
    cdef bytes p = path.encode() if isinstance(path, str) else bytes(path)
    if b"\0" in p:
        raise GGUFError("path contains a NUL byte")
    cdef const char * cp = p
    cdef char * out = NULL
    cdef char * err = NULL
    cdef po_status rc
    with nogil:
        rc = po_gguf_read(cp, max_array_len, &out, &err)
    _check(rc, err)
    return _take(out)


cdef class QuantizeJob:
    """A quantization running on a thread of the engine. `fileno()` becomes readable on progress
    and at the end; `poll()` says where it stands."""

    cdef po_quantize_job * _job
    cdef int _fd

    def __cinit__(self):
        self._job = NULL
        self._fd = -1

    def __init__(self, src, dst, str options_json):
        cdef bytes s = src.encode() if isinstance(src, str) else bytes(src)
        cdef bytes d = dst.encode() if isinstance(dst, str) else bytes(dst)
        cdef bytes o = options_json.encode()
        if b"\0" in s or b"\0" in d:
            raise EngineConfigError("path contains a NUL byte")
        cdef const char * cs = s
        cdef const char * cd = d
        cdef const char * co = o
        cdef char * err = NULL
        cdef po_status rc
        if self._job != NULL:
            raise EngineStateError("job is already started")
        with nogil:
            rc = po_quantize_start(cs, cd, co, &self._job, &err)
        _check(rc, err)
        self._fd = po_quantize_fd(self._job)

    def fileno(self):
        if self._job == NULL:
            raise EngineStateError("job is closed")
        return self._fd

    def poll(self, int timeout_ms=0):
        """(done, total) tensors while running (waiting up to timeout_ms), None once written;
        raises Canceled or the failure's EngineError."""
        cdef int64_t done = 0
        cdef int64_t total = 0
        cdef char * err = NULL
        cdef po_status rc
        if self._job == NULL:
            raise EngineStateError("job is closed")
        if timeout_ms == 0:
            rc = po_quantize_poll(self._job, 0, &done, &total, &err)
        else:
            with nogil:
                rc = po_quantize_poll(self._job, timeout_ms, &done, &total, &err)
        if rc == PO_AGAIN:
            return (done, total)
        _check(rc, err)
        return None

    def cancel(self):
        """Stop before the next tensor (from any thread); the output file is removed."""
        if self._job != NULL:
            po_quantize_cancel(self._job)

    def close(self):
        """Cancel if still running and release the job (never waits)."""
        if self._job != NULL:
            po_quantize_free(self._job)
            self._job = NULL
            self._fd = -1

    def __dealloc__(self):
        if self._job != NULL:
            po_quantize_free(self._job)
            self._job = NULL


cdef class Stream:
    """One submitted request. `fileno()` becomes readable when chunks may be waiting."""

    cdef po_stream * _st
    cdef int _fd
    cdef object _callback

    def __cinit__(self):
        self._st = NULL
        self._fd = -1
        self._callback = None

    def fileno(self):
        """The readiness fd, or -1 where there is none (Windows: use set_notify)."""
        if self._st == NULL:
            raise EngineStateError("stream is closed")
        return self._fd

    def set_notify(self, callback):
        """Call `callback()` (on an engine thread, thread-safe code only) whenever chunks may be
        waiting; None stops it. For event loops that cannot watch the fd."""
        cdef char * err = NULL
        cdef po_status rc
        cdef void * user = NULL
        if self._st == NULL:
            raise EngineStateError("stream is closed")
        if callback is None:
            with nogil:
                rc = po_stream_set_notify(self._st, NULL, NULL, &err)
            self._callback = None
        else:
            self._callback = callback  # kept alive while the engine may call it
            user = <void *> callback
            with nogil:
                rc = po_stream_set_notify(self._st, _notify, user, &err)
        _check(rc, err)

    def next(self, int timeout_ms=0):
        """Next chunk as (http_status, is_stream, is_last, data: bytes), or None if none is ready
        yet; raises StopIteration-like EOFError when the stream is over."""
        cdef po_chunk c
        cdef char * err = NULL
        cdef po_status rc
        if self._st == NULL:
            raise EOFError("stream is closed")
        if timeout_ms == 0:
            rc = po_stream_next(self._st, 0, &c, &err)
        else:
            with nogil:
                rc = po_stream_next(self._st, timeout_ms, &c, &err)
        if rc == PO_AGAIN:
            return None
        if rc == PO_EOF:
            raise EOFError("end of stream")
        _check(rc, err)
        try:
            data = c.data[:c.len]
        finally:
            po_free(c.data)
        return (c.http_status, bool(c.is_stream), bool(c.is_last), data)

    def cancel(self):
        """Stop the generation (from any thread); its slot is freed at the next token."""
        if self._st != NULL:
            with nogil:
                po_stream_cancel(self._st)

    def close(self):
        cdef po_stream * st = self._st
        if st != NULL:
            self._st = NULL
            self._fd = -1
            with nogil:
                po_stream_free(st)  # clears the callback: a call in flight may need the GIL
            self._callback = None

    def __dealloc__(self):
        cdef po_stream * st = self._st
        if st != NULL:
            self._st = NULL
            with nogil:
                po_stream_free(st)


cdef class Server:
    """One llama.cpp server context (one model, n slots) living in this process."""

    cdef po_server * _srv

    def __cinit__(self):
        self._srv = NULL

    def __init__(self, str config_json):
        cdef bytes cfg = config_json.encode()
        cdef const char * c = cfg
        cdef char * err = NULL
        cdef po_status rc
        if self._srv != NULL:
            raise EngineStateError("server is already created")
        with nogil:
            rc = po_server_create(c, &self._srv, &err)
        _check(rc, err)

    def load(self):
        """Blocking model load (call from a worker thread)."""
        cdef char * err = NULL
        cdef po_status rc
        self._require_open()
        with nogil:
            rc = po_server_load(self._srv, &err)
        _check(rc, err)

    def start(self):
        cdef char * err = NULL
        cdef po_status rc
        self._require_open()
        with nogil:
            rc = po_server_start(self._srv, &err)
        _check(rc, err)

    def metadata(self):
        """JSON string describing the loaded model."""
        cdef char * out = NULL
        cdef char * err = NULL
        cdef po_status rc
        self._require_open()
        with nogil:
            rc = po_server_metadata(self._srv, &out, &err)
        _check(rc, err)
        return _take(out)

    def submit(self, str route, bytes body):
        """Start a request on a handler; returns at once with its Stream."""
        cdef bytes r = route.encode()
        cdef const char * cr = r
        cdef const char * cb = body
        cdef size_t n = len(body)
        cdef char * err = NULL
        cdef po_status rc
        cdef po_stream * st = NULL
        self._require_open()
        with nogil:
            rc = po_server_submit(self._srv, cr, cb, n, &st, &err)
        _check(rc, err)
        s = Stream()
        (<Stream>s)._st = st
        (<Stream>s)._fd = po_stream_fd(st)
        return s

    def stop(self):
        """End live streams, wait for request workers, stop the task loop. Idempotent."""
        if self._srv != NULL:
            with nogil:
                po_server_stop(self._srv)

    def close(self):
        """Stop and free the model. Idempotent."""
        cdef po_server * s = self._srv
        self._srv = NULL
        if s != NULL:
            with nogil:
                po_server_free(s)

    cdef _require_open(self):
        if self._srv == NULL:
            raise EngineStateError("server is closed")

    def __dealloc__(self):
        # never block the thread the garbage collector happens to run on: a server dropped
        # without close() stops and frees itself on a thread of its own
        if self._srv != NULL:
            warnings.warn("pyollama engine Server was not closed", ResourceWarning, stacklevel=1)
            po_server_release(self._srv)
            self._srv = NULL
