// ggml's RPC backend behind the C ABI: serve this machine's devices to other engines (what
// llama.cpp's tools/rpc/rpc-server does, in-process), so a daemon elsewhere can split a model's
// layers across them. The client side needs nothing here: the engine's "rpc" configuration key
// becomes llama.cpp's own `--rpc host:port,...` argument (engine.cpp).
//
// The protocol has no authentication and no encryption: whoever reaches the port can allocate
// memory and run graphs on this machine. Callers bind loopback unless told otherwise.

#include "internal.h"

#include "ggml-backend.h"
#include "ggml-rpc.h"

#include <string>
#include <vector>

// The devices to serve: the named ones, else every GPU-like device (not the CPU or an
// accelerator), else the CPU alone; rpc-server.cpp's get_devices, with an error instead of exit.
static std::vector<ggml_backend_dev_t> serve_devices(const std::vector<std::string> & names) {
    std::vector<ggml_backend_dev_t> out;
    for (const auto & name : names) {
        ggml_backend_dev_t dev = ggml_backend_dev_by_name(name.c_str());
        if (!dev) {
            std::string known;
            for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
                known += (known.empty() ? "" : ", ") + std::string(ggml_backend_dev_name(ggml_backend_dev_get(i)));
            }
            throw std::invalid_argument("unknown device: " + name + " (available: " + known + ")");
        }
        out.push_back(dev);
    }
    if (!out.empty()) return out;
    for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
        ggml_backend_dev_t dev = ggml_backend_dev_get(i);
        enum ggml_backend_dev_type t = ggml_backend_dev_type(dev);
        if (t != GGML_BACKEND_DEVICE_TYPE_CPU && t != GGML_BACKEND_DEVICE_TYPE_ACCEL) out.push_back(dev);
    }
    if (out.empty()) {
        ggml_backend_dev_t cpu = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
        if (cpu) out.push_back(cpu);
    }
    if (out.empty()) throw std::invalid_argument("no device to serve");
    return out;
}

static std::vector<std::string> split_csv(const char * s) {
    std::vector<std::string> out;
    std::string cur;
    for (const char * p = s ? s : ""; ; p++) {
        if (*p == ',' || *p == '\0') {
            if (!cur.empty()) out.push_back(cur);
            cur.clear();
            if (*p == '\0') break;
        } else {
            cur.push_back(*p);
        }
    }
    return out;
}

extern "C" po_status po_rpc_server_run(const char * endpoint, int n_threads, const char * devices,
                                       const char * cache_dir, char ** err) {
    if (!endpoint) {
        po_set_err(err, "null argument");
        return PO_ERR_INVALID;
    }
    return po_guard(err, [&] {
        po_init(-1);
        std::string ep = endpoint;
        size_t colon = ep.rfind(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == ep.size()) {
            throw std::invalid_argument("RPC endpoint must be host:port: " + ep);
        }
        if (n_threads <= 0) throw std::invalid_argument("threads must be positive");
        std::vector<ggml_backend_dev_t> devs = serve_devices(split_csv(devices));
        // through the registry, as rpc-server does: in a portable build the RPC backend is a
        // library of its own (libggml-rpc), loaded beside the others
        ggml_backend_reg_t reg = ggml_backend_reg_by_name("RPC");
        if (!reg) throw std::runtime_error("this engine was built without ggml's RPC backend (GGML_RPC)");
        auto start = reinterpret_cast<decltype(ggml_backend_rpc_start_server) *>(
            ggml_backend_reg_get_proc_address(reg, "ggml_backend_rpc_start_server"));
        if (!start) throw std::runtime_error("the RPC backend has no ggml_backend_rpc_start_server");
        const char * cache = cache_dir && *cache_dir ? cache_dir : nullptr;
        // serves one client at a time, forever; it returns only when it cannot start (a device
        // that does not initialise, a port it cannot bind: its reason is on stderr)
        start(ep.c_str(), cache, static_cast<size_t>(n_threads), devs.size(), devs.data());
        po_set_err(err, "the RPC server could not start on " + ep + " (its reason is logged above)");
        return PO_ERR_LOAD;
    });
}
