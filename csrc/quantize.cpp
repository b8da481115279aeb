// Quantizing a GGUF model in-process with llama.cpp's own quantizer (llama_model_quantize, the
// function llama-quantize calls), so `create --quantize` needs no llama-quantize binary and writes
// the very bytes llama-quantize would.
//
// A job runs on a thread of its own. llama_model_quantize has no progress or cancel callback; it
// logs "[  i/  n] <tensor name> ..." on its calling thread before each tensor, so the job watches
// its own thread's log lines (po_log_observer): they give the progress, and when the job is
// cancelled the observer throws at the next such line. The exception unwinds through llama.cpp's
// C++ quantizer only (its worker threads are joined between tensors, its file and buffers are
// RAII), and llama_model_quantize turns it into a failure return; the partial output is removed.
// Every entry point runs under po_guard (internal.h).

#include "internal.h"

#include "llama.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using njson = nlohmann::ordered_json;

namespace {

// llama-quantize's type names (tools/quantize/quantize.cpp QUANT_OPTIONS), as llama.h numbers them
struct ftype_name {
    const char * name;
    llama_ftype ftype;
};

const ftype_name k_ftypes[] = {
    {"F32", LLAMA_FTYPE_ALL_F32},          {"F16", LLAMA_FTYPE_MOSTLY_F16},
    {"BF16", LLAMA_FTYPE_MOSTLY_BF16},     {"Q8_0", LLAMA_FTYPE_MOSTLY_Q8_0},
    {"Q4_0", LLAMA_FTYPE_MOSTLY_Q4_0},     {"Q4_1", LLAMA_FTYPE_MOSTLY_Q4_1},
    {"Q5_0", LLAMA_FTYPE_MOSTLY_Q5_0},     {"Q5_1", LLAMA_FTYPE_MOSTLY_Q5_1},
    {"Q2_K", LLAMA_FTYPE_MOSTLY_Q2_K},     {"Q2_K_S", LLAMA_FTYPE_MOSTLY_Q2_K_S},
    {"Q3_K", LLAMA_FTYPE_MOSTLY_Q3_K_M},   {"Q3_K_S", LLAMA_FTYPE_MOSTLY_Q3_K_S},
    {"Q3_K_M", LLAMA_FTYPE_MOSTLY_Q3_K_M}, {"Q3_K_L", LLAMA_FTYPE_MOSTLY_Q3_K_L},
    {"Q4_K", LLAMA_FTYPE_MOSTLY_Q4_K_M},   {"Q4_K_S", LLAMA_FTYPE_MOSTLY_Q4_K_S},
    {"Q4_K_M", LLAMA_FTYPE_MOSTLY_Q4_K_M}, {"Q5_K", LLAMA_FTYPE_MOSTLY_Q5_K_M},
    {"Q5_K_S", LLAMA_FTYPE_MOSTLY_Q5_K_S}, {"Q5_K_M", LLAMA_FTYPE_MOSTLY_Q5_K_M},
    {"Q6_K", LLAMA_FTYPE_MOSTLY_Q6_K},     {"IQ4_NL", LLAMA_FTYPE_MOSTLY_IQ4_NL},
    {"IQ4_XS", LLAMA_FTYPE_MOSTLY_IQ4_XS}, {"TQ1_0", LLAMA_FTYPE_MOSTLY_TQ1_0},
    {"TQ2_0", LLAMA_FTYPE_MOSTLY_TQ2_0},   {"MXFP4_MOE", LLAMA_FTYPE_MOSTLY_MXFP4_MOE},
    // the i-quants below Q4 need an importance matrix for most tensors: llama.cpp refuses them
    // without one, with its own message
    {"IQ3_XXS", LLAMA_FTYPE_MOSTLY_IQ3_XXS}, {"IQ3_XS", LLAMA_FTYPE_MOSTLY_IQ3_XS},
    {"IQ3_S", LLAMA_FTYPE_MOSTLY_IQ3_S},     {"IQ3_M", LLAMA_FTYPE_MOSTLY_IQ3_M},
    {"IQ2_XXS", LLAMA_FTYPE_MOSTLY_IQ2_XXS}, {"IQ2_XS", LLAMA_FTYPE_MOSTLY_IQ2_XS},
    {"IQ2_S", LLAMA_FTYPE_MOSTLY_IQ2_S},     {"IQ2_M", LLAMA_FTYPE_MOSTLY_IQ2_M},
    {"IQ1_S", LLAMA_FTYPE_MOSTLY_IQ1_S},     {"IQ1_M", LLAMA_FTYPE_MOSTLY_IQ1_M},
};

bool iequals(const std::string & a, const char * b) {
    size_t n = std::strlen(b);
    if (a.size() != n) return false;
    for (size_t i = 0; i < n; i++) {
        if (std::toupper((unsigned char) a[i]) != std::toupper((unsigned char) b[i])) return false;
    }
    return true;
}

llama_ftype parse_ftype(const std::string & name) {
    for (const auto & f : k_ftypes) {
        if (iequals(name, f.name)) return f.ftype;
    }
    throw std::invalid_argument("unknown quantization type: " + name);
}

ggml_type parse_ggml_type(const std::string & name) {
    for (int i = 0; i < GGML_TYPE_COUNT; i++) {
        const char * n = ggml_type_name((ggml_type) i);
        if (n && iequals(name, n)) return (ggml_type) i;
    }
    throw std::invalid_argument("unknown tensor type: " + name);
}

struct cancelled_error : std::runtime_error {
    cancelled_error() : std::runtime_error("quantization cancelled") {}
};

struct quant_state : po_log_observer {
    std::string src;
    std::string dst;
    llama_model_quantize_params params = llama_model_quantize_default_params();
    std::vector<std::string> patterns;  // owns the strings tt_overrides points into
    std::vector<llama_model_tensor_override> overrides;

    std::atomic<bool> cancelled{false};
    std::atomic<int64_t> done{0};
    std::atomic<int64_t> total{0};
    po_notifier ready;  // readable on progress and at the end

    std::mutex mu;
    std::condition_variable cv;
    bool finished = false;  // guarded by mu, as are rc and error
    po_status rc = PO_OK;
    std::string error;
    std::string log_errors;  // llama.cpp's error lines from this job's thread

    bool on_log(enum ggml_log_level level, const char * text) override {
        if (level == GGML_LOG_LEVEL_ERROR) {
            if (log_errors.size() < 8192) log_errors += text;
            return cancelled.load();  // a cancelled job's "failed to quantize" is no error
        }
        // llama_model_quantize_impl, before each tensor: "[%4d/%4d] %-36s - [...], type = ..."
        int i = 0, n = 0;
        if (text[0] == '[' && std::sscanf(text, "[%d/%d]", &i, &n) == 2 && n > 0) {
            if (cancelled.load()) throw cancelled_error();
            total.store(n);
            done.store(i);  // llama-quantize's "[i/n]": tensor i is under way
            ready.notify();
        }
        return false;
    }

    void run() {
        po_log_observer * prev = po_set_thread_log_observer(this);
        uint32_t r = 1;
        std::string what;
        try {
            r = llama_model_quantize(src.c_str(), dst.c_str(), &params);
        } catch (const std::exception & e) {  // not expected: llama_model_quantize catches
            what = e.what();
        } catch (...) {
            what = "unknown error";
        }
        po_set_thread_log_observer(prev);
        po_status status = PO_OK;
        std::string message;
        if (cancelled.load()) {
            status = PO_ERR_CANCELLED;
            message = "quantization cancelled";
        } else if (r != 0) {
            status = PO_ERR_INTERNAL;
            message = "quantization failed: " + reason(what);
        } else {
            done.store(total.load());
        }
        if (status != PO_OK) std::remove(dst.c_str());
        {
            std::lock_guard<std::mutex> lk(mu);
            finished = true;
            rc = status;
            error = message;
        }
        cv.notify_all();
        ready.notify();
    }

    // llama.cpp's own reason: its "failed to quantize: <exception>" line, else its last error line
    std::string reason(const std::string & what) const {
        if (!what.empty()) return what;
        static const std::string marker = "failed to quantize: ";
        size_t at = log_errors.rfind(marker);
        std::string out;
        if (at != std::string::npos) {
            out = log_errors.substr(at + marker.size());
        } else {
            out = log_errors;
        }
        while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
        size_t nl = out.rfind('\n');
        if (at == std::string::npos && nl != std::string::npos) out = out.substr(nl + 1);
        return out.empty() ? std::string("see the log for llama.cpp's reason") : out;
    }
};

}  // namespace

struct po_quantize_job {
    std::shared_ptr<quant_state> st;
    std::thread worker;
};

static void configure(quant_state & q, const njson & o) {
    static const char * known[] = {"type", "nthread", "allow_requantize", "pure", "leave_output_tensor",
                                   "tensor_types"};
    for (auto it = o.begin(); it != o.end(); ++it) {
        bool ok = false;
        for (const char * k : known) ok |= it.key() == k;
        if (!ok) throw std::invalid_argument("unknown quantize option: " + it.key());
    }
    if (!o.contains("type") || !o.at("type").is_string()) throw std::invalid_argument("type is required");
    std::string type = o.at("type").get<std::string>();
    q.params.ftype = parse_ftype(type);
    if (o.contains("nthread")) {
        const auto & v = o.at("nthread");
        if (!v.is_number_integer() || v.get<long>() < 0 || v.get<long>() > 4096) {
            throw std::invalid_argument("nthread must be an integer from 0 (all cores) to 4096");
        }
        q.params.nthread = (int32_t) v.get<long>();
    }
    auto flag = [&](const char * key, bool & out) {
        if (!o.contains(key)) return;
        if (!o.at(key).is_boolean()) throw std::invalid_argument(std::string(key) + " must be a boolean");
        out = o.at(key).get<bool>();
    };
    flag("allow_requantize", q.params.allow_requantize);
    flag("pure", q.params.pure);
    bool leave_output = false;
    flag("leave_output_tensor", leave_output);
    q.params.quantize_output_tensor = !leave_output;
    if (o.contains("tensor_types")) {
        // [[regex, ggml type], ...] as llama-quantize's --tensor-type NAME=TYPE (lowercased name)
        const auto & l = o.at("tensor_types");
        static const char * what = "tensor_types must be a list of [pattern, type] pairs";
        if (!l.is_array()) throw std::invalid_argument(what);
        for (const auto & p : l) {
            if (!p.is_array() || p.size() != 2 || !p[0].is_string() || !p[1].is_string()) {
                throw std::invalid_argument(what);
            }
            std::string pat = p[0].get<std::string>();
            for (auto & c : pat) c = (char) std::tolower((unsigned char) c);
            ggml_type t = parse_ggml_type(p[1].get<std::string>());
            q.patterns.push_back(pat);
            q.overrides.push_back({nullptr, t});
        }
        for (size_t i = 0; i < q.patterns.size(); i++) q.overrides[i].pattern = q.patterns[i].c_str();
        if (!q.overrides.empty()) {
            q.overrides.push_back({nullptr, GGML_TYPE_COUNT});  // terminator
            q.params.tt_overrides = q.overrides.data();
        }
    }
}

extern "C" po_status po_quantize_start(const char * src, const char * dst, const char * options_json,
                                       po_quantize_job ** out, char ** err) {
    if (!src || !dst || !options_json || !out) {
        po_set_err(err, "null argument");
        return PO_ERR_INVALID;
    }
    *out = nullptr;
    return po_guard(err, [&] {
        po_init(-1);
        njson o;
        try {
            o = njson::parse(options_json);
        } catch (const njson::exception & e) {
            throw std::invalid_argument(std::string("invalid quantize options JSON: ") + e.what());
        }
        if (!o.is_object()) throw std::invalid_argument("quantize options must be a JSON object");
        auto st = std::make_shared<quant_state>();
        st->src = src;
        st->dst = dst;
        if (st->src.empty() || st->dst.empty()) throw std::invalid_argument("empty path");
        if (st->src == st->dst) throw std::invalid_argument("input and output are the same file");
        configure(*st, o);
        auto job = std::make_unique<po_quantize_job>();
        job->st = st;
        // the thread holds its own reference: po_quantize_free never has to wait for it
        job->worker = std::thread([st] { po_guard_void("quantize", [&] { st->run(); }); });
        *out = job.release();
        return PO_OK;
    });
}

extern "C" int po_quantize_fd(po_quantize_job * job) { return job && job->st ? job->st->ready.fd() : -1; }

extern "C" po_status po_quantize_poll(po_quantize_job * job, int timeout_ms, int64_t * done, int64_t * total,
                                      char ** err) {
    if (!job || !job->st) {
        po_set_err(err, "null argument");
        return PO_ERR_INVALID;
    }
    return po_guard(err, [&] {
        quant_state & q = *job->st;
        q.ready.drain();  // a notify after this point sets it again
        std::unique_lock<std::mutex> lk(q.mu);
        if (!q.finished && timeout_ms != 0) {
            auto is_done = [&q] { return q.finished; };
            if (timeout_ms < 0) {
                q.cv.wait(lk, is_done);
            } else {
                q.cv.wait_for(lk, std::chrono::milliseconds(timeout_ms), is_done);
            }
        }
        if (done) *done = q.done.load();
        if (total) *total = q.total.load();
        if (!q.finished) return PO_AGAIN;
        q.ready.notify();  // stays readable once over
        if (q.rc != PO_OK) po_set_err(err, q.error);
        return q.rc;
    });
}

extern "C" void po_quantize_cancel(po_quantize_job * job) {
    if (job && job->st) job->st->cancelled.store(true);  // an atomic store: cannot throw
}

extern "C" void po_quantize_free(po_quantize_job * job) {
    if (!job) return;
    po_guard_void("quantize free", [job] {
        if (job->st) {
            job->st->cancelled.store(true);
            bool over;
            {
                std::lock_guard<std::mutex> lk(job->st->mu);
                over = job->st->finished;
            }
            // a finished worker is only returning: join it; a running one ends at its next tensor,
            // removes its output and drops its own reference
            if (job->worker.joinable()) {
                if (over) {
                    job->worker.join();
                } else {
                    job->worker.detach();
                }
            }
        }
        delete job;
    });
}
