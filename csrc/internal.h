// Helpers shared by the glue's translation units (engine.cpp, gguf_meta.cpp); not part of the ABI.
#ifndef PYOLLAMA_INTERNAL_H
#define PYOLLAMA_INTERNAL_H

#include "pyollama_engine.h"

#include "ggml.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <new>
#include <stdexcept>
#include <string>

// A copy of `s` in malloc'ed memory (the caller frees it with po_free); NULL when out of memory.
char * po_strdup(const std::string & s);

// Store a message for the caller (no-op when err is NULL).
void po_set_err(char ** err, const std::string & msg);

// A file descriptor that becomes readable when there is news (an eventfd on Linux, a pipe
// elsewhere), so the caller's event loop can wait for a stream or a job without a thread of its
// own. Level-triggered: drain() clears it, notify() sets it again.
class po_notifier {
  public:
    po_notifier();  // throws std::runtime_error when no descriptor can be made
    ~po_notifier();
    po_notifier(const po_notifier &) = delete;
    po_notifier & operator=(const po_notifier &) = delete;
    int fd() const { return rfd_; }
    void notify();
    void drain();

  private:
    int rfd_ = -1;
    int wfd_ = -1;
};

// Sees llama.cpp's and ggml's log lines on the thread that installed it (the quantizer reports its
// progress only through the log). on_log may throw a std::exception, but only for a line that
// llama.cpp's own C++ code logs (the unwinding must not cross ggml's C frames). Return true to
// keep the line out of stderr.
struct po_log_observer {
    virtual ~po_log_observer() = default;
    virtual bool on_log(enum ggml_log_level level, const char * text) = 0;
};

// Install (or, with nullptr, remove) the calling thread's observer; returns the previous one.
po_log_observer * po_set_thread_log_observer(po_log_observer * obs);

// While one lives, llama.cpp's and ggml's error lines logged on this thread are appended to `buf`
// (so a failed load or backend load can say llama.cpp's own reason).
struct po_error_capture {
    explicit po_error_capture(std::string * buf);
    ~po_error_capture();
    po_error_capture(const po_error_capture &) = delete;
    po_error_capture & operator=(const po_error_capture &) = delete;

  private:
    std::string * prev;
};

// A portable build (PYOLLAMA_BACKEND_DL): load the backends shipped beside the extension (the best
// CPU variant for this machine); nothing in a build that links its backends in. Called once by po_init.
void po_load_own_backends();

// Run one ABI entry point's body: every C++ exception becomes a status and a message, so nothing
// escapes into Python (where it would terminate the process). `fn` returns a po_status.
template <typename F>
po_status po_guard(char ** err, F && fn) noexcept {
    try {
        return fn();
    } catch (const nlohmann::json::exception & e) {
        po_set_err(err, std::string("invalid JSON: ") + e.what());
        return PO_ERR_INVALID;
    } catch (const std::invalid_argument & e) {
        po_set_err(err, e.what());
        return PO_ERR_INVALID;
    } catch (const std::bad_alloc &) {
        po_set_err(err, "out of memory");
        return PO_ERR_INTERNAL;
    } catch (const std::exception & e) {
        po_set_err(err, e.what());
        return PO_ERR_INTERNAL;
    } catch (...) {
        po_set_err(err, "unknown error");
        return PO_ERR_INTERNAL;
    }
}

// The same for entry points that return nothing: a failure is logged, never thrown.
template <typename F>
void po_guard_void(const char * what, F && fn) noexcept {
    try {
        fn();
    } catch (const std::exception & e) {
        std::fprintf(stderr, "pyollama engine: %s failed: %s\n", what, e.what());
    } catch (...) {
        std::fprintf(stderr, "pyollama engine: %s failed\n", what);
    }
}

#endif  // PYOLLAMA_INTERNAL_H
