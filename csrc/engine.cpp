// pyollama engine glue: llama.cpp's server core behind the C ABI of pyollama_engine.h.
//
// Each submitted request runs its handler on a worker thread of its own (handlers block until the
// first result, and streaming `next()` blocks per chunk). Chunks go into a per-stream queue, and the
// caller's event loop is woken without a Python thread per stream: by a readable fd where the loop
// can watch one (an eventfd on Linux, a pipe on other POSIX systems), or by a callback that the
// caller registers (po_stream_set_notify: Windows' proactor loop, which watches no fds).
// Shutdown follows docs/engine.md: stopping flag -> wait for workers -> terminate -> join.
// Every entry point runs its body under po_guard (internal.h): no C++ exception crosses the ABI.

#include "internal.h"

#include "arg.h"
#include "build-info.h"
#include "chat.h"
#include "common.h"
#include "log.h"
#include "llama.h"
#include "server-context.h"
#include "server-http.h"
#include "gguf.h"
#include "src/llama-ext.h"  // llama_get_memory_breakdown, llama_model_get_device

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#if defined(__linux__)
#include <sys/eventfd.h>
#include <unistd.h>
#elif !defined(_WIN32)
#include <fcntl.h>
#include <unistd.h>
#endif

using njson = nlohmann::ordered_json;

char * po_strdup(const std::string & s) {
    char * p = static_cast<char *>(std::malloc(s.size() + 1));
    if (p) {
        std::memcpy(p, s.data(), s.size());
        p[s.size()] = '\0';
    }
    return p;
}

void po_set_err(char ** err, const std::string & msg) {
    if (err) {
        *err = po_strdup(msg);
    }
}

// --- process-wide state -------------------------------------------------------------------------

static std::once_flag g_init_once;
static std::atomic<int> g_verbosity{1};
// While a thread loads a model, llama.cpp's error lines are also kept here, so the load error can
// say llama.cpp's own reason instead of "see the log" (the load runs on the calling thread).
static thread_local std::string * t_load_errors = nullptr;
static thread_local po_log_observer * t_log_observer = nullptr;

po_log_observer * po_set_thread_log_observer(po_log_observer * obs) {
    po_log_observer * prev = t_log_observer;
    t_log_observer = obs;
    return prev;
}

po_error_capture::po_error_capture(std::string * buf) : prev(t_load_errors) { t_load_errors = buf; }
po_error_capture::~po_error_capture() { t_load_errors = prev; }

static void po_log_callback(enum ggml_log_level level, const char * text, void * /*user*/) {
    if (t_load_errors && level == GGML_LOG_LEVEL_ERROR && text && t_load_errors->size() < 8192) {
        t_load_errors->append(text);
    }
    // may throw (a quantization being cancelled): see po_log_observer
    if (t_log_observer && text && t_log_observer->on_log(level, text)) {
        return;
    }
    int v = g_verbosity.load();
    int need;
    switch (level) {
        case GGML_LOG_LEVEL_ERROR: need = 0; break;
        case GGML_LOG_LEVEL_WARN:  need = 1; break;
        case GGML_LOG_LEVEL_INFO:  need = 3; break;
        case GGML_LOG_LEVEL_CONT:  need = 3; break;
        default:                   need = 4; break;
    }
    if (v >= need) {
        fputs(text, stderr);
    }
}

// The most telling part of llama.cpp's error lines from a failed load: what follows its "error
// loading model:" line if there is one, else the last line (trimmed of the function prefix).
static std::string load_reason(const std::string & log) {
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < log.size()) {
        size_t end = log.find('\n', start);
        if (end == std::string::npos) end = log.size();
        std::string line = log.substr(start, end - start);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (!line.empty()) lines.push_back(line);
        start = end + 1;
    }
    if (lines.empty()) return "";
    // llama.cpp's "error loading model: <exception>" is the reason when the exception is specific
    // (a tensor out of bounds, a wrong shape); when it only says the loader failed, the first error
    // line says why (the file cannot be opened, bad magic, ...)
    static const std::string marker = "error loading model: ";
    for (const auto & line : lines) {
        size_t at = line.find(marker);
        if (at != std::string::npos && line.find("failed to load model from") == std::string::npos) {
            return line.substr(at + marker.size());
        }
    }
    std::string first = lines.front();
    size_t colon = first.find(": ");  // drop the "function_name: " prefix
    if (colon != std::string::npos && colon < 48 && first.find(' ') > colon) first = first.substr(colon + 2);
    return first;
}

extern "C" void po_set_log_verbosity(int verbosity) {
    g_verbosity.store(verbosity);
    // common_log levels: 0 = output, 1 = error, 2 = warn, 3 = info, 4 = debug (LOG_DEFAULT_*)
    po_guard_void("set_log_verbosity", [&] { common_log_set_verbosity_thold(verbosity <= 0 ? 1 : verbosity); });
}

extern "C" void po_init(int verbosity) {
    if (verbosity < 0) verbosity = g_verbosity.load();  // keep the level set before
    po_guard_void("init", [] {
        std::call_once(g_init_once, [] {
            std::setlocale(LC_NUMERIC, "C");
            common_init();
            llama_log_set(po_log_callback, nullptr);
            // a portable build: the best CPU variant (and any backend shipped beside it) from the
            // extension's own folder, before llama_backend_init would search the Python
            // executable's folder and the current directory
            po_load_own_backends();
            llama_backend_init();
        });
    });
    po_set_log_verbosity(verbosity);
}

extern "C" const char * po_version(void) {
    return llama_build_info();
}

extern "C" const char * po_build_json(void) {
#ifdef PYOLLAMA_BACKEND_DL
    return "{\"pin\": \"" PYOLLAMA_PIN "\", \"backend_dl\": true}";
#else
    return "{\"pin\": \"" PYOLLAMA_PIN "\", \"backend_dl\": false}";
#endif
}

extern "C" void po_free(void * p) { std::free(p); }

// --- notification fds -----------------------------------------------------------------------------

po_notifier::po_notifier() {
#if defined(__linux__)
    rfd_ = wfd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
#elif !defined(_WIN32)
    int fds[2];
    if (pipe(fds) == 0) {
        for (int fd : fds) {
            fcntl(fd, F_SETFL, O_NONBLOCK);
            fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
        rfd_ = fds[0];
        wfd_ = fds[1];
    }
#else
    return;  // Windows: no fd (its default event loop cannot watch one); callers poll or use a callback
#endif
    if (rfd_ < 0) {
        throw std::runtime_error(std::string("cannot create a notification fd: ") + strerror(errno));
    }
}

po_notifier::~po_notifier() {
#if !defined(_WIN32)
    if (rfd_ >= 0) close(rfd_);
    if (wfd_ >= 0 && wfd_ != rfd_) close(wfd_);
#endif
}

void po_notifier::notify() {
#if defined(__linux__)
    uint64_t one = 1;
    ssize_t r = write(wfd_, &one, sizeof(one));
    (void) r;  // a full counter already means "ready"
#elif !defined(_WIN32)
    char one = 1;
    ssize_t r = write(wfd_, &one, 1);
    (void) r;  // a full pipe already means "ready"
#endif
}

void po_notifier::drain() {
#if !defined(_WIN32)
    uint64_t buf;
    while (read(rfd_, &buf, sizeof(buf)) > 0) {
    }
#endif
}

// --- streams --------------------------------------------------------------------------------------

namespace {

struct chunk_t {
    int status;
    bool is_stream;
    bool is_last;
    std::string data;
};

struct stream_state {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<chunk_t> chunks;
    bool finished = false;
    std::atomic<bool> cancelled{false};
    po_notifier ready;  // readable whenever chunks may be waiting (no fd on Windows)
    // the caller's wake-up callback; its own mutex, never held together with `mu`, and the caller
    // clears it with the GIL released (a callback in flight may be waiting for the GIL)
    std::mutex cb_mu;
    po_notify_fn cb = nullptr;
    void * cb_user = nullptr;

    // make the fd readable (level: stays so until drain)
    void signal_fd() { ready.notify(); }

    // an edge: something happened since the caller last looked (never called with `mu` held)
    void signal_callback() {
        std::lock_guard<std::mutex> lk(cb_mu);
        if (cb) cb(cb_user);
    }

    void notify() {
        signal_fd();
        signal_callback();
    }

    void set_callback(po_notify_fn fn, void * user) {
        std::lock_guard<std::mutex> lk(cb_mu);
        cb = fn;
        cb_user = user;
    }

    void drain() { ready.drain(); }

    void push(chunk_t && c) {
        {
            std::lock_guard<std::mutex> lk(mu);
            if (c.is_last) finished = true;
            chunks.push_back(std::move(c));
        }
        cv.notify_all();
        notify();
    }
};

}  // namespace

struct po_stream {
    std::shared_ptr<stream_state> st;
};

// --- server ---------------------------------------------------------------------------------------

enum class srv_state { created, loading, loaded, running, stopped };

struct po_server {
    common_params params;
    std::string config_error;
    std::unique_ptr<server_context> ctx;
    std::unique_ptr<server_routes> routes;
    std::unordered_map<std::string, server_http_context::handler_t *> handlers;
    std::thread loop;
    std::mutex mu;
    std::condition_variable cv;
    int workers = 0;
    std::atomic<bool> stopping{false};
    bool loop_done = true;  // guarded by mu
    srv_state state = srv_state::created;
    std::string metadata;
};

static void register_routes(po_server * s) {
    server_routes & r = *s->routes;
    auto & h = s->handlers;
    h["/health"] = &r.get_health;
    h["/props"] = &r.get_props;
    h["/completion"] = &r.post_completions;
    h["/completions"] = &r.post_completions;
    h["/v1/completions"] = &r.post_completions_oai;
    h["/v1/chat/completions"] = &r.post_chat_completions;
    h["/v1/messages"] = &r.post_anthropic_messages;
    h["/v1/messages/count_tokens"] = &r.post_anthropic_count_tokens;
    h["/v1/responses"] = &r.post_responses_oai;
    h["/infill"] = &r.post_infill;
    h["/embedding"] = &r.post_embeddings;
    h["/embeddings"] = &r.post_embeddings;
    h["/v1/embeddings"] = &r.post_embeddings_oai;
    h["/rerank"] = &r.post_rerank;
    h["/tokenize"] = &r.post_tokenize;
    h["/detokenize"] = &r.post_detokenize;
    h["/apply-template"] = &r.post_apply_template;
    h["/v1/chat/completions/input_tokens"] = &r.post_chat_completions_tok;
    h["/v1/models"] = &r.get_models;
}

// Which speculator a draft model needs, from its GGUF header as llama.cpp's
// common_speculative_types_from_gguf decides it (a DFlash/DSpark model, an MTP head, else a plain
// draft model: "draft-simple"). Our own reading because llama.cpp's asserts (aborting the
// process) on a header without `<arch>.block_count`.
static std::string draft_kind(const std::string & path) {
    gguf_init_params gp = {/*no_alloc*/ true, /*ctx*/ nullptr};
    std::unique_ptr<gguf_context, decltype(&gguf_free)> g(gguf_init_from_file(path.c_str(), gp), gguf_free);
    if (!g) throw std::invalid_argument("draft model is not a readable GGUF file: " + path);
    int64_t ai = gguf_find_key(g.get(), "general.architecture");
    if (ai < 0 || gguf_get_kv_type(g.get(), ai) != GGUF_TYPE_STRING) {
        throw std::invalid_argument("draft model has no general.architecture: " + path);
    }
    std::string arch = gguf_get_val_str(g.get(), ai);
    if (arch == "dflash") {
        return gguf_find_tensor(g.get(), "markov_w1.weight") >= 0 ? "draft-dspark" : "draft-dflash";
    }
    int64_t bi = gguf_find_key(g.get(), (arch + ".block_count").c_str());
    if (bi >= 0 && gguf_get_kv_type(g.get(), bi) == GGUF_TYPE_UINT32) {
        uint32_t n = gguf_get_val_u32(g.get(), bi);
        std::string head = "blk." + std::to_string(n > 0 ? n - 1 : 0) + ".nextn.eh_proj.weight";
        if (n > 0 && gguf_find_tensor(g.get(), head.c_str()) >= 0) return "draft-mtp";
    }
    return "draft-simple";
}

// Build llama-server's argv from the typed JSON configuration. Only known keys are accepted, so
// none of the arg parser's exit() paths (-h, --version, ...) can ever be reached.
static std::vector<std::string> build_argv(const njson & cfg) {
    static const char * known[] = {
        "model", "n_ctx", "n_parallel", "n_batch", "n_ubatch", "n_threads", "n_threads_batch",
        "n_gpu_layers", "main_gpu", "flash_attn", "cache_type_k", "cache_type_v", "embeddings",
        "pooling", "chat_template", "mmproj", "lora", "context_shift", "n_keep", "alias", "use_mmap",
        "kv_unified", "warmup", "cache_ram_mib", "fit", "reasoning_format", "draft_model", "draft_n_max",
        "draft_n_min", "speculative", "rpc"};
    for (auto it = cfg.begin(); it != cfg.end(); ++it) {
        bool ok = false;
        for (const char * k : known) ok |= it.key() == k;
        if (!ok) throw std::invalid_argument("unknown configuration key: " + it.key());
    }
    auto get_int = [&](const char * key, long lo, long hi) -> std::string {
        const auto & v = cfg.at(key);
        if (!v.is_number_integer()) throw std::invalid_argument(std::string(key) + " must be an integer");
        long x = v.get<long>();
        if (x < lo || x > hi) {
            throw std::invalid_argument(std::string(key) + " out of range: " + std::to_string(x));
        }
        return std::to_string(x);
    };
    auto get_str = [&](const char * key) -> std::string {
        const auto & v = cfg.at(key);
        if (!v.is_string()) throw std::invalid_argument(std::string(key) + " must be a string");
        std::string s = v.get<std::string>();
        if (s.find('\0') != std::string::npos) throw std::invalid_argument(std::string(key) + " has a NUL byte");
        return s;
    };
    auto get_bool = [&](const char * key) -> bool {
        const auto & v = cfg.at(key);
        if (!v.is_boolean()) throw std::invalid_argument(std::string(key) + " must be a boolean");
        return v.get<bool>();
    };
    auto one_of = [&](const char * key, std::initializer_list<const char *> allowed) -> std::string {
        std::string s = get_str(key);
        for (const char * a : allowed) if (s == a) return s;
        throw std::invalid_argument(std::string("invalid ") + key + ": " + s);
    };

    std::vector<std::string> a = {"pyollama"};
    if (!cfg.contains("model")) throw std::invalid_argument("model is required");
    a.insert(a.end(), {"-m", get_str("model")});
    const long big = 1L << 24;
    if (cfg.contains("n_ctx")) a.insert(a.end(), {"-c", get_int("n_ctx", 0, big)});
    if (cfg.contains("n_parallel")) a.insert(a.end(), {"-np", get_int("n_parallel", 1, 256)});
    if (cfg.contains("n_batch")) a.insert(a.end(), {"-b", get_int("n_batch", 1, big)});
    if (cfg.contains("n_ubatch")) a.insert(a.end(), {"-ub", get_int("n_ubatch", 1, big)});
    if (cfg.contains("n_threads")) a.insert(a.end(), {"-t", get_int("n_threads", 1, 1024)});
    if (cfg.contains("n_threads_batch")) a.insert(a.end(), {"-tb", get_int("n_threads_batch", 1, 1024)});
    if (cfg.contains("n_gpu_layers")) {
        long n = std::stol(get_int("n_gpu_layers", -1, 100000));
        a.insert(a.end(), {"-ngl", n < 0 ? std::string("all") : std::to_string(n)});
    }
    if (cfg.contains("main_gpu")) a.insert(a.end(), {"-mg", get_int("main_gpu", 0, 64)});
    if (cfg.contains("flash_attn")) a.insert(a.end(), {"-fa", one_of("flash_attn", {"on", "off", "auto"})});
    static const std::initializer_list<const char *> kv_types = {"f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1"};
    if (cfg.contains("cache_type_k")) a.insert(a.end(), {"-ctk", one_of("cache_type_k", kv_types)});
    if (cfg.contains("cache_type_v")) a.insert(a.end(), {"-ctv", one_of("cache_type_v", kv_types)});
    if (cfg.contains("embeddings") && get_bool("embeddings")) a.push_back("--embeddings");
    if (cfg.contains("pooling")) a.insert(a.end(), {"--pooling", one_of("pooling", {"none", "mean", "cls", "last", "rank"})});
    if (cfg.contains("chat_template")) {
        std::string t = get_str("chat_template");
        if (!common_chat_verify_template(t, true)) throw std::invalid_argument("invalid chat template (Jinja parse error)");
        a.insert(a.end(), {"--chat-template", t});
    }
    a.push_back("--jinja");
    if (cfg.contains("mmproj")) a.insert(a.end(), {"-mm", get_str("mmproj")});
    // lora: set on the parsed parameters (lora_from_config), not as --lora: the argument parser
    // splits its value at commas and colons, which a path may contain
    if (cfg.contains("draft_model")) {
        std::string path = get_str("draft_model");
        a.insert(a.end(), {"-md", path, "--spec-type", draft_kind(path)});
        if (cfg.contains("n_gpu_layers")) {
            long n = std::stol(get_int("n_gpu_layers", -1, 100000));
            a.insert(a.end(), {"-ngld", n < 0 ? std::string("all") : std::to_string(n)});
        }
    }
    if (cfg.contains("draft_n_max")) a.insert(a.end(), {"--spec-draft-n-max", get_int("draft_n_max", 0, 1024)});
    if (cfg.contains("draft_n_min")) a.insert(a.end(), {"--spec-draft-n-min", get_int("draft_n_min", 0, 1024)});
    if (cfg.contains("speculative")) {
        // draft-free speculation: llama.cpp's n-gram speculators
        static const std::initializer_list<const char *> ngram = {"ngram-simple", "ngram-map-k", "ngram-map-k4v", "ngram-mod", "ngram-cache"};
        const auto & l = cfg.at("speculative");
        if (!l.is_array()) throw std::invalid_argument("speculative must be a list of n-gram speculator names");
        std::string kinds;
        for (const auto & k : l) {
            if (!k.is_string()) throw std::invalid_argument("speculative must be a list of n-gram speculator names");
            std::string name = k.get<std::string>();
            bool known = false;
            for (const char * n : ngram) known = known || name == n;
            if (!known) throw std::invalid_argument("invalid speculative type: " + name);
            kinds += (kinds.empty() ? "" : ",") + name;
        }
        if (!kinds.empty()) a.insert(a.end(), {"--spec-type", kinds});
    }
    if (cfg.contains("context_shift")) a.push_back(get_bool("context_shift") ? "--context-shift" : "--no-context-shift");
    if (cfg.contains("n_keep")) a.insert(a.end(), {"--keep", get_int("n_keep", -1, big)});
    if (cfg.contains("alias")) a.insert(a.end(), {"-a", get_str("alias")});
    if (cfg.contains("use_mmap")) a.insert(a.end(), {"-lm", get_bool("use_mmap") ? "auto" : "none"});
    if (cfg.contains("kv_unified")) a.push_back(get_bool("kv_unified") ? "-kvu" : "-no-kvu");
    if (cfg.contains("warmup") && !get_bool("warmup")) a.push_back("--no-warmup");
    a.insert(a.end(), {"-cram", cfg.contains("cache_ram_mib") ? get_int("cache_ram_mib", -1, big) : "0"});
    if (cfg.contains("fit")) a.insert(a.end(), {"-fit", get_bool("fit") ? "on" : "off"});
    if (cfg.contains("reasoning_format")) {
        a.insert(a.end(), {"--reasoning-format", one_of("reasoning_format", {"none", "auto", "deepseek", "deepseek-legacy"})});
    }
    if (cfg.contains("rpc")) {
        // llama.cpp's own --rpc: registers each server's devices (add_rpc_devices in common/arg.cpp)
        const auto & l = cfg.at("rpc");
        static const char * what = "rpc must be a list of \"host:port\" strings";
        if (!l.is_array()) throw std::invalid_argument(what);
        std::string servers;
        for (const auto & e : l) {
            if (!e.is_string()) throw std::invalid_argument(what);
            std::string ep = e.get<std::string>();
            size_t colon = ep.rfind(':');
            bool ok = colon != std::string::npos && colon > 0 && colon + 1 < ep.size() &&
                      ep.find_first_of(", \t\n\r", 0) == std::string::npos && ep.find('\0') == std::string::npos;
            ok = ok && ep.size() - colon - 1 <= 5;
            for (size_t i = colon + 1; ok && i < ep.size(); i++) ok = ep[i] >= '0' && ep[i] <= '9';
            if (ok) {
                long port = std::stol(ep.substr(colon + 1));
                ok = port > 0 && port <= 65535;
            }
            if (!ok) throw std::invalid_argument("invalid RPC server (host:port): " + ep);
            servers += (servers.empty() ? "" : ",") + ep;
        }
        if (!servers.empty()) a.insert(a.end(), {"--rpc", servers});
    }
    // in-process: no keep-alive comments in streams
    a.insert(a.end(), {"--sse-ping-interval", "-1"});
    a.push_back("--offline");
    return a;
}

// llama.cpp loads an adapter's tensors of any type and multiplies with them; the CPU backend has no
// matrix product for F64 or integer tensors and calls a null function (the process dies). Such a
// file is refused here, by its header, with a message instead.
static void check_lora_tensors(const std::string & path) {
    gguf_init_params gp = {/*no_alloc*/ true, /*ctx*/ nullptr};
    std::unique_ptr<gguf_context, decltype(&gguf_free)> g(gguf_init_from_file(path.c_str(), gp), gguf_free);
    if (!g) throw std::invalid_argument("LoRA adapter is not a readable GGUF file: " + path);
    for (int64_t i = 0; i < gguf_get_n_tensors(g.get()); i++) {
        ggml_type t = gguf_get_tensor_type(g.get(), i);
        if (t == GGML_TYPE_F64 || t == GGML_TYPE_I8 || t == GGML_TYPE_I16 || t == GGML_TYPE_I32 || t == GGML_TYPE_I64) {
            throw std::invalid_argument(std::string("LoRA adapter tensor '") + gguf_get_tensor_name(g.get(), i) +
                                        "' has type " + ggml_type_name(t) + ", which llama.cpp cannot apply: " + path);
        }
    }
}

// "lora": a list of adapter paths, or of {"path": str, "scale": number} (scale 1 by default; 0
// loads the adapter without effect). llama.cpp multiplies the scale by the adapter's alpha/rank.
static std::vector<common_adapter_lora_info> lora_from_config(const njson & cfg) {
    std::vector<common_adapter_lora_info> out;
    if (!cfg.contains("lora")) return out;
    const auto & l = cfg.at("lora");
    static const char * what = "lora must be a list of paths or {\"path\", \"scale\"} objects";
    if (!l.is_array()) throw std::invalid_argument(what);
    for (const auto & item : l) {
        std::string path;
        float scale = 1.0f;
        if (item.is_string()) {
            path = item.get<std::string>();
        } else if (item.is_object() && item.contains("path") && item.at("path").is_string()) {
            path = item.at("path").get<std::string>();
            if (item.contains("scale")) {
                const auto & sc = item.at("scale");
                if (!sc.is_number()) throw std::invalid_argument("lora scale must be a number");
                double v = sc.get<double>();
                if (!std::isfinite(v) || v < -1e6 || v > 1e6) throw std::invalid_argument("lora scale out of range");
                scale = (float) v;
            }
        } else {
            throw std::invalid_argument(what);
        }
        if (path.empty()) throw std::invalid_argument("lora path is empty");
        check_lora_tensors(path);
        out.push_back({path, scale, "", "", nullptr});
    }
    return out;
}

extern "C" po_status po_server_create(const char * config_json, po_server ** out, char ** err) {
    if (!out || !config_json) {
        po_set_err(err, "null argument");
        return PO_ERR_INVALID;
    }
    *out = nullptr;
    return po_guard(err, [&] {
        po_init(g_verbosity.load());
        njson cfg;
        try {
            cfg = njson::parse(config_json);
        } catch (const njson::exception & e) {
            throw std::invalid_argument(std::string("invalid configuration JSON: ") + e.what());
        }
        if (!cfg.is_object()) throw std::invalid_argument("configuration must be a JSON object");
        std::vector<std::string> args = build_argv(cfg);
        std::vector<common_adapter_lora_info> loras = lora_from_config(cfg);
        std::vector<char *> argv;
        for (auto & a : args) argv.push_back(a.data());
        argv.push_back(nullptr);

        auto s = std::make_unique<po_server>();
        int prev = g_verbosity.load();
        if (!common_params_parse((int) args.size(), argv.data(), s->params, LLAMA_EXAMPLE_SERVER)) {
            throw std::invalid_argument("invalid engine configuration (llama.cpp rejected the arguments)");
        }
        po_set_log_verbosity(prev);  // the parser resets llama.cpp's own threshold
        s->params.lora_adapters = std::move(loras);
        s->params.sse_ping_interval = -1;
        if (s->params.n_parallel < 0) {
            s->params.n_parallel = 4;
            s->params.kv_unified = true;
        }
        if (s->params.embedding && s->params.n_batch > s->params.n_ubatch) {
            s->params.n_batch = s->params.n_ubatch;
        }
        *out = s.release();
        return PO_OK;
    });
}

static std::string build_metadata(po_server * s) {
    server_context_meta meta = s->ctx->get_meta();
    llama_context * lctx = s->ctx->get_llama_context();
    const llama_model * model = lctx ? llama_get_model(lctx) : nullptr;
    njson m;
    char buf[512];
    auto meta_str = [&](const char * key) -> std::string {
        if (!model) return "";
        int n = llama_model_meta_val_str(model, key, buf, sizeof(buf));
        return n >= 0 ? std::string(buf) : std::string();
    };
    m["architecture"] = meta_str("general.architecture");
    m["name"] = meta_str("general.name");
    m["description"] = model ? (llama_model_desc(model, buf, sizeof(buf)), std::string(buf)) : "";
    m["parameter_count"] = meta.model_n_params;
    m["size"] = meta.model_size;
    m["file_type"] = meta.model_ftype;
    m["context_length"] = meta.model_n_ctx_train;
    m["embedding_length"] = model ? llama_model_n_embd(model) : meta.model_n_embd_inp;
    m["n_vocab"] = meta.model_vocab_n_tokens;
    m["slot_context"] = meta.slot_n_ctx;
    m["n_ctx"] = lctx ? (int64_t) llama_n_ctx(lctx) : 0;
    m["n_parallel"] = s->params.n_parallel;
    m["n_batch"] = s->params.n_batch;
    m["n_threads"] = s->params.cpuparams.n_threads;
    m["embeddings"] = s->params.embedding;
    m["pooling"] = (int) meta.pooling_type;
    m["has_encoder"] = model ? llama_model_has_encoder(model) : false;
    m["has_decoder"] = model ? llama_model_has_decoder(model) : true;
    m["has_vision"] = meta.has_inp_image;
    m["has_audio"] = meta.has_inp_audio;
    m["bos_token"] = meta.bos_token_str;
    m["eos_token"] = meta.eos_token_str;
    m["fim"] = meta.fim_pre_token != LLAMA_TOKEN_NULL && meta.fim_sub_token != LLAMA_TOKEN_NULL &&
               meta.fim_mid_token != LLAMA_TOKEN_NULL;
    njson caps = njson::object();
    for (const auto & kv : meta.chat_template_caps) caps[kv.first] = kv.second;
    m["chat_template_caps"] = caps;
    // what this context holds in device memory (weights, KV cache, compute buffers): Ollama's
    // size_vram; host buffers (mapped weights, pinned staging) are not device memory
    uint64_t vram = 0, total = 0;
    if (lctx) {
        for (const auto & [buft, mb] : llama_get_memory_breakdown(lctx)) {
            total += mb.total();
            // the CPU's extra buffer types (CPU_REPACK) are not host-visible but live in RAM too
            ggml_backend_dev_t dev = ggml_backend_buft_get_device(buft);
            bool on_cpu = dev && ggml_backend_dev_type(dev) == GGML_BACKEND_DEVICE_TYPE_CPU;
            if (!ggml_backend_buft_is_host(buft) && !on_cpu) vram += mb.total();
        }
    }
    m["size_vram"] = vram;
    m["size_total"] = total;
    njson devices = njson::array();
    for (int i = 0; model && i < llama_model_n_devices(model); i++) {
        ggml_backend_dev_t dev = llama_model_get_device(model, i);
        if (dev) devices.push_back(ggml_backend_dev_name(dev));
    }
    m["devices"] = devices;
    return m.dump();
}

static po_status load_locked_out(po_server * s, char ** err) {
    std::string load_errors;
    po_error_capture guard(&load_errors);  // llama.cpp's error lines for the duration of this load
    s->ctx = std::make_unique<server_context>();
    // routes before load_model (they register a sleeping-state callback)
    s->routes = std::make_unique<server_routes>(s->params, *s->ctx);
    if (!s->ctx->load_model(s->params)) {
        std::string reason = load_reason(load_errors);
        po_set_err(err, "failed to load model '" + s->params.model.path + "': " +
                            (reason.empty() ? std::string("llama.cpp could not read it (not a valid GGUF for "
                                                          "this build, unsupported architecture, or not enough "
                                                          "memory); see the log above for details")
                                            : reason));
        return PO_ERR_LOAD;
    }
    s->routes->update_meta(*s->ctx);
    register_routes(s);
    s->metadata = build_metadata(s);
    return PO_OK;
}

extern "C" po_status po_server_load(po_server * s, char ** err) {
    if (!s) {
        po_set_err(err, "null server");
        return PO_ERR_INVALID;
    }
    return po_guard(err, [&] {
        {
            std::lock_guard<std::mutex> lk(s->mu);
            if (s->state != srv_state::created) {
                po_set_err(err, "server already loaded or stopped");
                return PO_ERR_STATE;
            }
            s->state = srv_state::loading;
        }
        po_status rc;
        try {
            rc = load_locked_out(s, err);
        } catch (const std::exception & e) {
            po_set_err(err, std::string("failed to load model: ") + e.what());
            rc = PO_ERR_LOAD;
        } catch (...) {
            po_set_err(err, "failed to load model: unknown error");
            rc = PO_ERR_LOAD;
        }
        if (rc != PO_OK) {
            po_guard_void("load cleanup", [&] {
                s->handlers.clear();
                s->routes.reset();
                s->ctx.reset();
            });
        }
        std::lock_guard<std::mutex> lk(s->mu);
        s->state = rc == PO_OK ? srv_state::loaded : srv_state::created;
        s->cv.notify_all();
        return rc;
    });
}

extern "C" po_status po_server_start(po_server * s, char ** err) {
    if (!s) {
        po_set_err(err, "null server");
        return PO_ERR_INVALID;
    }
    return po_guard(err, [&] {
        std::lock_guard<std::mutex> lk(s->mu);
        if (s->state != srv_state::loaded) {
            po_set_err(err, "server is not loaded (or already started/stopped)");
            return PO_ERR_STATE;
        }
        server_context * ctx = s->ctx.get();
        s->loop_done = false;
        s->loop = std::thread([s, ctx] {
            po_guard_void("task loop", [ctx] { ctx->start_loop(); });
            std::lock_guard<std::mutex> lk2(s->mu);
            s->loop_done = true;
            s->cv.notify_all();
        });
        s->state = srv_state::running;
        return PO_OK;
    });
}

extern "C" po_status po_server_metadata(po_server * s, char ** json_out, char ** err) {
    if (!s || !json_out) {
        po_set_err(err, "null argument");
        return PO_ERR_INVALID;
    }
    return po_guard(err, [&] {
        std::lock_guard<std::mutex> lk(s->mu);
        if (s->state != srv_state::loaded && s->state != srv_state::running) {
            po_set_err(err, "server is not loaded");
            return PO_ERR_STATE;
        }
        *json_out = po_strdup(s->metadata);
        if (!*json_out) throw std::bad_alloc();
        return PO_OK;
    });
}

static std::string error_json(const std::string & message, int code, const char * type) {
    njson e = {{"error", {{"code", code}, {"message", message}, {"type", type}}}};
    return e.dump(-1, ' ', false, njson::error_handler_t::replace);  // never throws on bad UTF-8
}

// One request: the handler, then every streamed chunk, into the stream's queue.
static void serve_request(po_server * s, server_http_context::handler_t * handler,
                          const std::shared_ptr<stream_state> & st, std::string route, std::string body) {
    const std::function<bool()> should_stop = [s, st] { return s->stopping.load() || st->cancelled.load(); };
    server_http_req req{{}, {}, std::move(route), "", std::move(body), {}, should_stop};
    server_http_res_ptr res;
    try {
        res = (*handler)(req);
    } catch (const std::invalid_argument & e) {
        st->push({400, false, true, error_json(e.what(), 400, "invalid_request_error")});
    } catch (const std::exception & e) {
        st->push({500, false, true, error_json(e.what(), 500, "server_error")});
    } catch (...) {
        st->push({500, false, true, error_json("unknown error", 500, "server_error")});
    }
    if (!res) return;
    if (!res->is_stream()) {
        st->push({res->status, false, true, std::move(res->data)});
    } else {
        int status = res->status;
        bool more = true;
        while (more) {
            std::string out;
            try {
                more = res->next(out);
            } catch (const std::exception & e) {
                out = "data: " + error_json(e.what(), 500, "server_error") + "\n\n";
                more = false;
            } catch (...) {
                out = "data: " + error_json("unknown error", 500, "server_error") + "\n\n";
                more = false;
            }
            if (!out.empty() || !more) {
                st->push({status, true, !more, std::move(out)});
            }
        }
    }
    res->on_complete();
    res.reset();  // posts the cancel tasks that free the slot
}

// The body of a request's worker thread: nothing may escape a detached thread (std::terminate),
// and the worker count always goes down, or po_server_stop would wait forever.
static void run_request(po_server * s, server_http_context::handler_t * handler,
                        std::shared_ptr<stream_state> st, std::string route, std::string body) {
    po_guard_void("request", [&] { serve_request(s, handler, st, std::move(route), std::move(body)); });
    po_guard_void("request end", [&] {
        {
            std::lock_guard<std::mutex> lk(st->mu);
            st->finished = true;
        }
        st->cv.notify_all();
        st->notify();
    });
    st.reset();
    // notify while holding the lock: once it is released, po_server_stop may return and
    // po_server_free delete `s`
    std::lock_guard<std::mutex> lk(s->mu);
    s->workers--;
    s->cv.notify_all();
}

extern "C" po_status po_server_submit(po_server * s, const char * route, const char * body, size_t body_len,
                                      po_stream ** out, char ** err) {
    if (!s || !route || !out) {
        po_set_err(err, "null argument");
        return PO_ERR_INVALID;
    }
    *out = nullptr;
    return po_guard(err, [&] {
        std::unique_lock<std::mutex> lk(s->mu);
        if (s->state != srv_state::running || s->stopping.load()) {
            po_set_err(err, "server is not running");
            return PO_ERR_STATE;
        }
        auto it = s->handlers.find(route);
        if (it == s->handlers.end()) {
            po_set_err(err, std::string("unknown route: ") + route);
            return PO_ERR_NOT_FOUND;
        }
        auto st = std::make_shared<stream_state>();
        auto handle = std::make_unique<po_stream>(po_stream{st});
        std::string b = body ? std::string(body, body_len) : std::string();
        s->workers++;
        try {
            std::thread(run_request, s, it->second, st, std::string(route), std::move(b)).detach();
        } catch (...) {
            s->workers--;
            throw;
        }
        *out = handle.release();
        return PO_OK;
    });
}

static void stop_server(po_server * s) {
    std::unique_lock<std::mutex> lk(s->mu);
    if (s->state == srv_state::stopped) return;
    s->stopping.store(true);
    // a load in progress on another thread owns ctx/routes until it returns
    s->cv.wait(lk, [s] { return s->state != srv_state::loading; });
    if (s->state == srv_state::stopped) return;
    // every should_stop() now answers true; handlers poll it at least once a second
    s->cv.wait(lk, [s] { return s->workers == 0; });
    bool running = s->state == srv_state::running;
    s->state = srv_state::stopped;
    lk.unlock();
    if (running && s->ctx) {
        // start_loop() sets its `running` flag when it begins: a terminate() that lands before
        // that is lost, so keep terminating until the loop has really ended.
        std::unique_lock<std::mutex> lk2(s->mu);
        while (!s->loop_done) {
            lk2.unlock();
            s->ctx->terminate();
            lk2.lock();
            s->cv.wait_for(lk2, std::chrono::milliseconds(50), [s] { return s->loop_done; });
        }
        lk2.unlock();
        if (s->loop.joinable()) s->loop.join();
    }
}

extern "C" void po_server_stop(po_server * s) {
    if (!s) return;
    po_guard_void("server stop", [s] { stop_server(s); });
}

extern "C" void po_server_free(po_server * s) {
    if (!s) return;
    po_server_stop(s);
    po_guard_void("server free", [s] {
        s->handlers.clear();
        s->routes.reset();
        s->ctx.reset();
    });
    delete s;
}

extern "C" void po_server_release(po_server * s) {
    if (!s) return;
    try {
        std::thread([s] { po_server_free(s); }).detach();
    } catch (...) {
        po_server_free(s);  // no thread to spare: free here rather than leak
    }
}

extern "C" int po_stream_fd(po_stream * h) { return h && h->st ? h->st->ready.fd() : -1; }

static po_status next_chunk(stream_state & st, int timeout_ms, po_chunk * out) {
    // clear the notification first: a push after this point sets it again
    st.drain();
    std::unique_lock<std::mutex> lk(st.mu);
    auto ready = [&st] { return !st.chunks.empty() || st.finished; };
    if (!ready()) {
        if (timeout_ms == 0) return PO_AGAIN;
        if (timeout_ms < 0) {
            st.cv.wait(lk, ready);
        } else if (!st.cv.wait_for(lk, std::chrono::milliseconds(timeout_ms), ready)) {
            return PO_AGAIN;
        }
    }
    if (st.chunks.empty()) return PO_EOF;
    chunk_t c = std::move(st.chunks.front());
    st.chunks.pop_front();
    // more waiting: keep the fd readable (the callback is an edge: a caller woken by it reads until
    // it gets nothing, so it needs no second one, and `mu` is held here)
    if (!st.chunks.empty()) st.signal_fd();
    lk.unlock();
    out->data = po_strdup(c.data);
    if (!out->data) throw std::bad_alloc();
    out->http_status = c.status;
    out->is_stream = c.is_stream ? 1 : 0;
    out->is_last = c.is_last ? 1 : 0;
    out->len = c.data.size();
    return PO_OK;
}

extern "C" po_status po_stream_next(po_stream * h, int timeout_ms, po_chunk * out, char ** err) {
    if (!h || !out || !h->st) {
        po_set_err(err, "null argument");
        return PO_ERR_INVALID;
    }
    return po_guard(err, [&] { return next_chunk(*h->st, timeout_ms, out); });
}

extern "C" void po_stream_cancel(po_stream * h) {
    if (h && h->st) h->st->cancelled.store(true);  // an atomic store: cannot throw
}

extern "C" po_status po_stream_set_notify(po_stream * h, po_notify_fn fn, void * user, char ** err) {
    if (!h || !h->st) {
        po_set_err(err, "null argument");
        return PO_ERR_INVALID;
    }
    return po_guard(err, [&] {
        h->st->set_callback(fn, user);
        return PO_OK;
    });
}

extern "C" void po_stream_free(po_stream * h) {
    if (!h) return;
    po_guard_void("stream free", [h] {
        if (h->st) {
            h->st->cancelled.store(true);
            h->st->set_callback(nullptr, nullptr);  // the worker may outlive the handle
        }
        delete h;  // may drop the last reference to the state
    });
}
