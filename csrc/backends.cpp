// ggml backends and devices behind the C ABI: which backends are loaded (and from which library),
// the devices they expose with their memory, and loading a backend plugin at run time.
//
// In a portable build (PYOLLAMA_BACKEND_DL: the wheels) ggml's CPU backend is a set of shared
// libraries, one per instruction-set level, next to the extension; po_load_own_backends picks the
// best for this CPU (ggml scores each) when the engine initialises. GPU backends come as plugin
// wheels whose library pyollama.engine.backends hands to po_backend_load. In a build that links its
// backends in (scripts/setup) there is nothing to load.

#include "internal.h"

#include "ggml-backend.h"

#include <nlohmann/json.hpp>

#include <string>

#if defined(_WIN32)
#define WIN32_LEAN_AND_MEAN
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#else
#include <dlfcn.h>
#endif

using njson = nlohmann::ordered_json;

// The file of the loaded library that holds `addr` (code or static data): where a backend was
// loaded from, or this extension itself. Empty when unknown.
static std::string module_path(const void * addr) {
#if defined(_WIN32)
    HMODULE h = nullptr;
    if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                            static_cast<LPCWSTR>(addr), &h)) {
        return "";
    }
    std::wstring wide(32768, L'\0');
    DWORD n = GetModuleFileNameW(h, wide.data(), static_cast<DWORD>(wide.size()));
    if (n == 0) return "";
    int len = WideCharToMultiByte(CP_UTF8, 0, wide.data(), static_cast<int>(n), nullptr, 0, nullptr, nullptr);
    std::string out(static_cast<size_t>(len > 0 ? len : 0), '\0');
    if (len > 0) WideCharToMultiByte(CP_UTF8, 0, wide.data(), static_cast<int>(n), out.data(), len, nullptr, nullptr);
    return out;
#else
    Dl_info info;
    if (dladdr(addr, &info) && info.dli_fname) return info.dli_fname;
    return "";
#endif
}

static std::string parent_dir(const std::string & path) {
    size_t slash = path.find_last_of("/\\");
    return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

void po_load_own_backends() {
#ifdef PYOLLAMA_BACKEND_DL
    std::string self = module_path(reinterpret_cast<const void *>(&po_load_own_backends));
    if (!self.empty()) {
        ggml_backend_load_all_from_path(parent_dir(self).c_str());
    }
#endif
}

static const char * type_name(enum ggml_backend_dev_type t) {
    switch (t) {
        case GGML_BACKEND_DEVICE_TYPE_CPU: return "cpu";
        case GGML_BACKEND_DEVICE_TYPE_GPU: return "gpu";
        case GGML_BACKEND_DEVICE_TYPE_IGPU: return "igpu";
        case GGML_BACKEND_DEVICE_TYPE_ACCEL: return "accel";
        default: return "other";
    }
}

// ggml's error lines, trimmed to one line per failure, for a message
static std::string first_lines(const std::string & log) {
    std::string out = log;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
}

extern "C" po_status po_backend_load(const char * path, char ** name_out, char ** err) {
    if (!path || !name_out) {
        po_set_err(err, "null argument");
        return PO_ERR_INVALID;
    }
    *name_out = nullptr;
    return po_guard(err, [&] {
#ifndef PYOLLAMA_BACKEND_DL
        po_set_err(err, std::string("cannot load ") + path +
                            ": this engine links its backends in (a source build); backend plugins need "
                            "the portable build (the pyollama wheel, or PYOLLAMA_PORTABLE=ON)");
        return PO_ERR_STATE;
#else
        po_init(-1);
        std::string errors;
        ggml_backend_reg_t reg;
        {
            po_error_capture capture(&errors);
            reg = ggml_backend_load(path);
        }
        if (!reg) {
            std::string why = first_lines(errors);
            po_set_err(err, std::string("cannot load backend ") + path + ": " +
                                (why.empty() ? std::string("not a ggml backend of this build, or not supported "
                                                           "on this machine")
                                             : why));
            return PO_ERR_LOAD;
        }
        *name_out = po_strdup(ggml_backend_reg_name(reg));
        if (!*name_out) throw std::bad_alloc();
        return PO_OK;
#endif
    });
}

extern "C" po_status po_devices(char ** json_out, char ** err) {
    if (!json_out) {
        po_set_err(err, "null argument");
        return PO_ERR_INVALID;
    }
    *json_out = nullptr;
    return po_guard(err, [&] {
        po_init(-1);
        njson out = {{"backends", njson::array()}, {"devices", njson::array()}};
        for (size_t i = 0; i < ggml_backend_reg_count(); i++) {
            ggml_backend_reg_t reg = ggml_backend_reg_get(i);
            njson b = {{"name", ggml_backend_reg_name(reg)},
                       {"path", module_path(static_cast<const void *>(reg))},
                       {"devices", ggml_backend_reg_dev_count(reg)}};
            njson features = njson::object();
            auto get_features = reinterpret_cast<ggml_backend_get_features_t>(
                ggml_backend_reg_get_proc_address(reg, "ggml_backend_get_features"));
            if (get_features) {
                for (const ggml_backend_feature * f = get_features(reg); f && f->name; f++) {
                    features[f->name] = f->value ? f->value : "";
                }
            }
            b["features"] = features;
            out["backends"].push_back(b);
        }
        for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
            ggml_backend_dev_t dev = ggml_backend_dev_get(i);
            ggml_backend_dev_props props{};
            ggml_backend_dev_get_props(dev, &props);
            out["devices"].push_back({
                {"name", props.name ? props.name : ""},
                {"description", props.description ? props.description : ""},
                {"type", type_name(props.type)},
                {"backend", ggml_backend_reg_name(ggml_backend_dev_backend_reg(dev))},
                {"memory_free", static_cast<uint64_t>(props.memory_free)},
                {"memory_total", static_cast<uint64_t>(props.memory_total)},
                {"device_id", props.device_id ? props.device_id : ""},
            });
        }
        *json_out = po_strdup(out.dump(-1, ' ', false, njson::error_handler_t::replace));
        if (!*json_out) throw std::bad_alloc();
        return PO_OK;
    });
}
