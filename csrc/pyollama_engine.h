/*
 * pyollama engine: a plain C ABI over llama.cpp's server core (tools/server `server-context`).
 *
 * No C++ type crosses this boundary and no C++ exception escapes it: every function catches and
 * returns a status code, with a message in *err (allocated; release with po_free). Handles are
 * opaque. Blocking functions are meant to be called with the GIL released.
 *
 * Life of a server:  po_server_create(config) -> po_server_load (blocking) -> po_server_start
 *   -> po_server_submit (any thread, any number at once) -> po_stream_next ... -> po_stream_free
 *   -> po_server_stop (ends live streams, joins threads) -> po_server_free.
 */
#ifndef PYOLLAMA_ENGINE_H
#define PYOLLAMA_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum po_status {
    PO_OK             = 0,
    PO_AGAIN          = 1, /* po_stream_next: no chunk within the timeout */
    PO_EOF            = 2, /* po_stream_next: the stream is over and drained */
    PO_ERR_INVALID    = 10, /* bad configuration, bad argument, bad JSON */
    PO_ERR_LOAD       = 11, /* llama.cpp could not load the model (message says why) */
    PO_ERR_STATE      = 12, /* wrong state for this call (not loaded, stopped, ...) */
    PO_ERR_GGUF       = 13, /* not a readable GGUF file */
    PO_ERR_NOT_FOUND  = 14, /* unknown route */
    PO_ERR_INTERNAL   = 15, /* any other C++ exception */
    PO_ERR_CANCELLED  = 16  /* po_quantize_poll: the job was cancelled */
} po_status;

typedef struct po_server po_server;
typedef struct po_stream po_stream;
typedef struct po_quantize_job po_quantize_job;

/* One piece of a response. For a non-streamed response there is exactly one chunk with is_last=1.
 * For a streamed one, data holds SSE text ("data: {json}\n\n"), possibly several events. */
typedef struct po_chunk {
    int    http_status;  /* llama.cpp's status for this response (200, 400, 500, ...) */
    int    is_stream;    /* 1 if the handler answered with a stream */
    int    is_last;      /* 1 on the final chunk */
    char * data;         /* NUL-terminated, allocated; release with po_free */
    size_t len;
} po_chunk;

/* Process-wide: backend init and log level (0 = errors only .. 4 = debug; < 0 keeps the level set
 * before). Idempotent. */
void po_init(int log_verbosity);
void po_set_log_verbosity(int log_verbosity);
const char * po_version(void);  /* llama.cpp build info, static string */
/* {"pin": "llama.cpp-<commit>", "backend_dl": bool}: the tree this engine was built from (a backend
 * plugin must come from the same one) and whether backends are loaded at run time. Static string. */
const char * po_build_json(void);
void po_free(void * p);

/* Load one ggml backend library (a plugin: libggml-cuda.so, ...) into a portable build (backend_dl);
 * *name_out: the backend's name ("CUDA"), allocated. Loading a library already loaded is a no-op.
 * PO_ERR_LOAD with ggml's reason when it cannot be loaded; PO_ERR_STATE in a build that links its
 * backends in. */
po_status po_backend_load(const char * path, char ** name_out, char ** err);
/* The backends and devices ggml knows now, as JSON: {"backends": [{"name", "path", "devices",
 * "features": {name: value}}], "devices": [{"name", "description", "type": "cpu|gpu|igpu|accel",
 * "backend", "memory_free", "memory_total", "device_id"}]}. "path" is the library the backend lives in. */
po_status po_devices(char ** json_out, char ** err);

/* Serve this machine's devices to other engines over ggml's RPC protocol (llama.cpp's rpc-server,
 * in-process). endpoint: "host:port" to bind. NO AUTHENTICATION: anyone who reaches the port can use
 * the devices; bind loopback unless the network is trusted. devices: comma-separated ggml device
 * names ("CUDA0,CPU"), NULL or "" = every GPU, else the CPU. cache_dir: ggml's local tensor cache
 * (NULL = none). Blocks for the life of the process (serving one client at a time); it returns only
 * when the server cannot start (PO_ERR_LOAD; the reason is on stderr) or on bad arguments. */
po_status po_rpc_server_run(const char * endpoint, int n_threads, const char * devices,
                            const char * cache_dir, char ** err);

/* config_json: {"model": path, "n_ctx": int, "n_parallel": int, "n_batch": int, "n_ubatch": int,
 *  "n_threads": int, "n_threads_batch": int, "n_gpu_layers": int, "main_gpu": int, "flash_attn":
 *  "on|off|auto", "cache_type_k": str, "cache_type_v": str, "embeddings": bool, "pooling": str,
 *  "chat_template": str, "mmproj": path, "lora": [path | {"path": path, "scale": number}],
 *  "context_shift": bool, "n_keep": int, "alias": str, "use_mmap": bool, "kv_unified": bool,
 *  "warmup": bool, "cache_ram_mib": int, "fit": bool, "reasoning_format": str,
 *  "draft_model": path (speculative decoding; its kind comes from its GGUF header),
 *  "draft_n_max": int, "draft_n_min": int, "speculative": ["ngram-simple" | "ngram-map-k" |
 *  "ngram-map-k4v" | "ngram-mod" | "ngram-cache"] (draft-free n-gram speculation),
 *  "rpc": ["host:port", ...] (ggml RPC servers: llama.cpp's --rpc; their devices come first in the
 *  layer split; an unreachable server makes llama.cpp abort the process, so callers probe first)}.
 * Values are checked here; the server is not loaded yet. */
po_status po_server_create(const char * config_json, po_server ** out, char ** err);
/* Blocking. On failure *err carries llama.cpp's own reason. */
po_status po_server_load(po_server * srv, char ** err);
/* Starts the task loop thread. */
po_status po_server_start(po_server * srv, char ** err);
/* JSON object describing the loaded model (architecture, sizes, template, capabilities, kv). */
po_status po_server_metadata(po_server * srv, char ** json_out, char ** err);
/* Submit a request to a handler ("/completion", "/v1/chat/completions", "/embedding",
 * "/tokenize", "/detokenize", "/apply-template", "/props", ...). Returns at once: the handler
 * runs on its own worker thread and its chunks are read with po_stream_next. */
po_status po_server_submit(po_server * srv, const char * route, const char * body, size_t body_len,
                           po_stream ** out, char ** err);
/* Ends every live stream, waits for request workers, stops the loop. Idempotent, returns promptly. */
void po_server_stop(po_server * srv);
void po_server_free(po_server * srv);
/* po_server_free on a thread of its own; returns at once (for finalizers that must not block). */
void po_server_release(po_server * srv);

/* Readable file descriptor that becomes ready whenever chunks may be waiting (level: read it to
 * clear). Lets an event loop wait without a thread per stream. Valid until po_stream_free; -1 on
 * Windows (use po_stream_set_notify). */
int po_stream_fd(po_stream * st);
/* timeout_ms: 0 = non-blocking, <0 = wait forever. PO_OK fills *out; PO_AGAIN; PO_EOF. */
po_status po_stream_next(po_stream * st, int timeout_ms, po_chunk * out, char ** err);
/* A wake-up for event loops that cannot watch an fd (Windows' proactor loop): fn(user) is called on a
 * worker thread whenever chunks may be waiting (an edge: read with po_stream_next until PO_AGAIN
 * before waiting again). NULL clears it; once this returns, fn is not running and will not be
 * called. Call with the GIL released if fn takes it. */
typedef void (*po_notify_fn)(void * user);
po_status po_stream_set_notify(po_stream * st, po_notify_fn fn, void * user, char ** err);
/* Cancel from any thread: the generation stops and its slot is freed. */
void po_stream_cancel(po_stream * st);
/* Cancels if still running and releases the handle (the worker finishes on its own). */
void po_stream_free(po_stream * st);

/* GGUF header (all key/values, tensor list) without loading weights, as JSON:
 * {"version": n, "kv": {...}, "tensors": [{"name","type","shape":[..],"offset","size"}],
 *  "data_offset": n} (tensor offsets are relative to data_offset).
 * Arrays longer than max_array_len (>=0) are returned empty; -1 keeps all. */
po_status po_gguf_read(const char * path, int64_t max_array_len, char ** json_out, char ** err);

/* Quantize the GGUF at src into a new file dst with llama.cpp's own quantizer (what llama-quantize
 * does), on a thread of its own; returns at once. options_json: {"type": llama-quantize's name
 * ("Q4_K_M", "Q8_0", "F16", ...), "nthread": int (0 = every core), "allow_requantize": bool,
 * "pure": bool, "leave_output_tensor": bool, "tensor_types": [[regex, ggml type name], ...]}.
 * On failure or cancellation dst is removed. */
po_status po_quantize_start(const char * src, const char * dst, const char * options_json,
                            po_quantize_job ** out, char ** err);
/* Readable whenever progress was made or the job ended (level: po_quantize_poll clears it). */
int po_quantize_fd(po_quantize_job * job);
/* Progress as llama-quantize prints it (tensor *done of *total under way; both 0 before the first
 * tensor) and the state: PO_AGAIN while running (waiting up to timeout_ms as po_stream_next),
 * PO_OK once written, PO_ERR_CANCELLED, or another error with llama.cpp's reason in *err. */
po_status po_quantize_poll(po_quantize_job * job, int timeout_ms, int64_t * done, int64_t * total,
                           char ** err);
/* From any thread: the job stops before its next tensor. */
void po_quantize_cancel(po_quantize_job * job);
/* Cancels a running job and releases the handle without waiting (the job ends on its own). */
void po_quantize_free(po_quantize_job * job);

#ifdef __cplusplus
}
#endif

#endif /* PYOLLAMA_ENGINE_H */
