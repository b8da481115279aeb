// GGUF header reading for pyollama (show/list/create): ggml's own parser with no_alloc, so no
// weights are read, and every validation ggml does (magic, version, overflowing sizes, offsets
// past the end of the file) applies. Output is JSON for the Python side.

#include "internal.h"

#include "ggml.h"
#include "gguf.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

using njson = nlohmann::ordered_json;

static njson scalar(const gguf_context * g, int64_t i, enum gguf_type t, const void * p) {
    (void) g;
    (void) i;
    switch (t) {
        case GGUF_TYPE_UINT8:   return *(const uint8_t *) p;
        case GGUF_TYPE_INT8:    return *(const int8_t *) p;
        case GGUF_TYPE_UINT16:  return *(const uint16_t *) p;
        case GGUF_TYPE_INT16:   return *(const int16_t *) p;
        case GGUF_TYPE_UINT32:  return *(const uint32_t *) p;
        case GGUF_TYPE_INT32:   return *(const int32_t *) p;
        case GGUF_TYPE_UINT64:  return *(const uint64_t *) p;
        case GGUF_TYPE_INT64:   return *(const int64_t *) p;
        case GGUF_TYPE_FLOAT32: return *(const float *) p;
        case GGUF_TYPE_FLOAT64: return *(const double *) p;
        case GGUF_TYPE_BOOL:    return *(const int8_t *) p != 0;
        default:                return nullptr;
    }
}

static size_t type_size(enum gguf_type t) {
    switch (t) {
        case GGUF_TYPE_UINT8: case GGUF_TYPE_INT8: case GGUF_TYPE_BOOL: return 1;
        case GGUF_TYPE_UINT16: case GGUF_TYPE_INT16: return 2;
        case GGUF_TYPE_UINT32: case GGUF_TYPE_INT32: case GGUF_TYPE_FLOAT32: return 4;
        case GGUF_TYPE_UINT64: case GGUF_TYPE_INT64: case GGUF_TYPE_FLOAT64: return 8;
        default: return 0;
    }
}

namespace {
struct gguf_deleter {
    void operator()(gguf_context * g) const { gguf_free(g); }
};
struct ggml_deleter {
    void operator()(ggml_context * c) const { ggml_free(c); }
};
}  // namespace

static po_status read_header(const char * path, int64_t max_array_len, char ** json_out, char ** err) {
    ggml_context * meta_raw = nullptr;
    gguf_init_params params = {/*no_alloc =*/true, /*ctx =*/&meta_raw};
    std::unique_ptr<gguf_context, gguf_deleter> g(gguf_init_from_file(path, params));
    std::unique_ptr<ggml_context, ggml_deleter> meta(meta_raw);
    if (!g) {
        po_set_err(err, std::string("not a valid GGUF file: ") + path);
        return PO_ERR_GGUF;
    }
    // no_alloc reads no tensor data, so check here that it all lies inside the file
    std::error_code ec;
    const uint64_t file_size = (uint64_t) std::filesystem::file_size(path, ec);
    if (ec) {
        po_set_err(err, std::string("cannot read GGUF ") + path + ": " + ec.message());
        return PO_ERR_GGUF;
    }
    const uint64_t data_off = gguf_get_data_offset(g.get());
    for (int64_t i = 0; i < gguf_get_n_tensors(g.get()); i++) {
        const uint64_t end = data_off + gguf_get_tensor_offset(g.get(), i) + gguf_get_tensor_size(g.get(), i);
        if (end > file_size || end < data_off) {
            po_set_err(err, std::string("truncated GGUF file: tensor '") + gguf_get_tensor_name(g.get(), i) +
                                "' ends past the end of " + path);
            return PO_ERR_GGUF;
        }
    }
    njson out;
    out["version"] = gguf_get_version(g.get());
    njson kv = njson::object();
    const int64_t n_kv = gguf_get_n_kv(g.get());
    for (int64_t i = 0; i < n_kv; i++) {
        const char * key = gguf_get_key(g.get(), i);
        enum gguf_type t = gguf_get_kv_type(g.get(), i);
        if (t == GGUF_TYPE_STRING) {
            kv[key] = gguf_get_val_str(g.get(), i);
        } else if (t == GGUF_TYPE_ARRAY) {
            enum gguf_type at = gguf_get_arr_type(g.get(), i);
            size_t n = gguf_get_arr_n(g.get(), i);
            njson arr = njson::array();
            if (max_array_len < 0 || (int64_t) n <= max_array_len) {
                if (at == GGUF_TYPE_STRING) {
                    for (size_t j = 0; j < n; j++) arr.push_back(gguf_get_arr_str(g.get(), i, j));
                } else if (type_size(at) > 0) {
                    const char * data = (const char *) gguf_get_arr_data(g.get(), i);
                    for (size_t j = 0; j < n; j++) arr.push_back(scalar(g.get(), i, at, data + j * type_size(at)));
                }
            }
            kv[key] = std::move(arr);
        } else {
            kv[key] = scalar(g.get(), i, t, gguf_get_val_data(g.get(), i));
        }
    }
    out["kv"] = std::move(kv);
    njson tensors = njson::array();
    const int64_t n_t = gguf_get_n_tensors(g.get());
    for (int64_t i = 0; i < n_t; i++) {
        const char * name = gguf_get_tensor_name(g.get(), i);
        njson shape = njson::array();
        ggml_tensor * t = meta ? ggml_get_tensor(meta.get(), name) : nullptr;
        if (t) {
            for (int d = 0; d < ggml_n_dims(t); d++) shape.push_back(t->ne[d]);
        }
        tensors.push_back({{"name", name},
                           {"type", ggml_type_name(gguf_get_tensor_type(g.get(), i))},
                           {"shape", shape},
                           {"offset", gguf_get_tensor_offset(g.get(), i)},
                           {"size", gguf_get_tensor_size(g.get(), i)}});
    }
    out["tensors"] = std::move(tensors);
    out["data_offset"] = data_off;
    *json_out = po_strdup(out.dump(-1, ' ', false, njson::error_handler_t::replace));
    if (!*json_out) {
        po_set_err(err, "out of memory");
        return PO_ERR_INTERNAL;
    }
    return PO_OK;
}

extern "C" po_status po_gguf_read(const char * path, int64_t max_array_len, char ** json_out, char ** err) {
    if (!path || !json_out) {
        po_set_err(err, "null argument");
        return PO_ERR_INVALID;
    }
    return po_guard(err, [&] {
        try {
            return read_header(path, max_array_len, json_out, err);
        } catch (const std::bad_alloc &) {
            throw;
        } catch (const std::exception & e) {  // whatever ggml's reader throws is the file's fault
            po_set_err(err, std::string("cannot read GGUF ") + path + ": " + e.what());
            return PO_ERR_GGUF;
        }
    });
}
