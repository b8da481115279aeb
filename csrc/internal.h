// Helpers shared by the glue's translation units (engine.cpp, gguf_meta.cpp); not part of the ABI.
#ifndef PYOLLAMA_INTERNAL_H
#define PYOLLAMA_INTERNAL_H

#include "pyollama_engine.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <new>
#include <stdexcept>
#include <string>

// A copy of `s` in malloc'ed memory (the caller frees it with po_free); NULL when out of memory.
char * po_strdup(const std::string & s);

// Store a message for the caller (no-op when err is NULL).
void po_set_err(char ** err, const std::string & msg);

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
