#include "tuner.h"
#include "../interleave.h"
#include "../ops.h"
#include "../screened_argmax.h"
#include <rt/cycles.h>
#include <rt/heap.h>
#include <rt/work_pool.h>

namespace llm::kernels {

namespace {

constexpr int warmup_runs = 1;
constexpr int timed_runs = 7;

// Median cycles of `timed_runs` calls after a warm-up.
template<typename Call>
u64 median_cycles(Call const& call)
{
    for (int i = 0; i < warmup_runs; ++i)
        call();
    u64 samples[timed_runs];
    for (auto& sample : samples) {
        u64 start = rt::read_cycles();
        call();
        sample = rt::read_cycles() - start;
    }
    for (int i = 1; i < timed_runs; ++i) // insertion sort: seven values
        for (int j = i; j > 0 && samples[j] < samples[j - 1]; --j) {
            u64 t = samples[j];
            samples[j] = samples[j - 1];
            samples[j - 1] = t;
        }
    return samples[timed_runs / 2];
}

void fill(float* values, size_t count, u32 seed)
{
    for (size_t i = 0; i < count; ++i) {
        seed = seed * 1664525u + 1013904223u;
        values[i] = float(i32(seed >> 8) % 2001 - 1000) / 1000.0f;
    }
}

// Times each runnable variant of one op; returns the index of the fastest, or that of the
// `preferred` set where it is within 1/16 of the fastest.
template<typename Variants, typename Run>
u8 choose(const char* op, Variants variants, rt::CpuFeatures const& cpu, rt::TextSink& report, Run const& run, Isa preferred = Isa::Scalar)
{
    u64 reference = 0, best = ~u64(0), preferred_cycles = 0;
    u8 choice = 0, preferred_choice = 0;
    for (size_t i = 0; i < variants.size(); ++i) {
        if (!can_run(variants[i].isa, cpu))
            continue;
        u64 cycles = median_cycles([&] { run(variants[i].function); });
        if (i == 0)
            reference = cycles;
        rt::format_to(report, "[tune] {:<10} {:<9} {:>12} cycles  {:>6.2f}x\n", op, variants[i].name, cycles,
            cycles ? double(reference) / double(cycles) : 0.0);
        if (cycles < best) {
            best = cycles;
            choice = u8(i);
        }
        if (variants[i].isa == preferred && preferred != Isa::Scalar)
            preferred_cycles = cycles, preferred_choice = u8(i);
    }
    if (preferred_choice && preferred_cycles <= best + best / 16)
        return preferred_choice;
    return choice;
}

// Times an operation split over 1, 2, 4 ... and all cores (`run(workers)`); returns the
// fastest count (each step up must gain an eighth), or 0 (all cores) when there is only
// one. Fork and join cost more than a small model's work, so small models keep their
// operations on fewer cores.
template<typename Run>
u8 choose_workers(const char* op, const char* variant, rt::TextSink& report, Run const& run)
{
    size_t available = rt::WorkPool::the().worker_count();
    if (available < 2)
        return 0;
    if (available > 255)
        available = 255;
    u64 single = 0, best = ~u64(0);
    u8 choice = 1;
    for (size_t workers = 1;; workers = rt::min(workers * 2, available)) {
        u64 cycles = median_cycles([&] { run(workers); });
        if (workers == 1)
            single = cycles;
        auto name = rt::FixedString<16>::formatted("{}@{}", variant, workers);
        rt::format_to(report, "[tune] {:<10} {:<9} {:>12} cycles  {:>6.2f}x\n", op, name.view(), cycles,
            cycles ? double(single) / double(cycles) : 0.0);
        // More cores must be clearly faster: back-to-back timing with warm caches flatters
        // them, and in a run the other cores may be busy (a VM's vCPUs share host cores).
        if (workers == 1 || cycles + cycles / 8 < best) {
            best = cycles;
            choice = u8(workers);
        }
        if (workers == available)
            break;
    }
    return choice;
}

// One callable from several lambdas, each taking its own kernel signature.
template<typename... Calls>
struct Overloaded : Calls... {
    using Calls::operator()...;
};
template<typename... Calls>
Overloaded(Calls...) -> Overloaded<Calls...>;

// The block types that have tuned kernels of their own, in plan order.
constexpr TensorType block_types[] = { TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_K, TensorType::Q6_K, TensorType::Q5_0,
    TensorType::Q5_1, TensorType::Q4_1, TensorType::Q5_K, TensorType::Q3_K, TensorType::Q2_K, TensorType::IQ4_NL, TensorType::IQ4_XS };

// Where a block of each of them keeps its f16 scales (d, and the min's scale where it has one).
struct ScaleBytes {
    TensorType type;
    u16 at[2];
    u8 count;
};
constexpr ScaleBytes scale_bytes[] = { { TensorType::Q8_0, { 0 }, 1 }, { TensorType::Q4_0, { 0 }, 1 }, { TensorType::Q4_K, { 0, 2 }, 2 },
    { TensorType::Q6_K, { 208 }, 1 }, { TensorType::Q5_0, { 0 }, 1 }, { TensorType::Q5_1, { 0, 2 }, 2 }, { TensorType::Q4_1, { 0, 2 }, 2 }, { TensorType::Q5_K, { 0, 2 }, 2 },
    { TensorType::Q3_K, { 108 }, 1 }, { TensorType::Q2_K, { 80, 82 }, 2 }, { TensorType::IQ4_NL, { 0 }, 1 }, { TensorType::IQ4_XS, { 0 }, 1 } };


}

bool screens_classifier(Weights const& w)
{
    // The tuner's scratch copy is of the gate matrix: it must repack too.
    Tensor const& gate = w.layers[0].w1;
    return ScreenedArgmax::worth_screening(w.classifier) && gate.type == TensorType::F32 && gate.cols % 32 == 0 && gate.rows % 8 == 0;
}

bool multiplies(Weights const& w, TensorType type)
{
    bool found = w.classifier.type == type;
    for (size_t l = 0; l < w.layers.size(); ++l) {
        Layer const& layer = w.layers[l];
        Tensor const* matrices[] = { &layer.wq, &layer.wk, &layer.wv, &layer.wo, &layer.w1, &layer.w2, &layer.w3 };
        for (Tensor const* m : matrices)
            found = found || m->type == type;
    }
    return found;
}

bool runs(Weights const& weights, Op op)
{
    if (op == Op::Rmsnorm || op == Op::Softmax || op == Op::Attention || op == Op::Swiglu)
        return true; // every model
    if (op == Op::Quantize)
        return weights.input_group > 0 || screens_classifier(weights); // the products take int8 input
    if (op == Op::MatmulQ8x8 && screens_classifier(weights))
        return true;
    for (u8 type = 0; type < u8(tensor_type_count); ++type)
        if (traits(TensorType(type)).op == op && multiplies(weights, TensorType(type)))
            return true;
    return false;
}

size_t unnamed_operations(Plan const& plan, Weights const& weights, rt::TextSink& out)
{
    size_t count = 0;
    for (size_t op = 0; op < op_count; ++op)
        if (!plan.named[op] && runs(weights, Op(op)))
            rt::format_to(out, "{}{}", count++ ? ", " : "", op_names[op]);
    return count;
}

void fill_scratch_blocks(rt::Span<u8> data, i32 columns)
{
    u32 seed = 7;
    for (auto& byte : data)
        byte = u8((seed = seed * 1664525u + 1013904223u) >> 24);
    // Every high byte 0x20: exponent 8, 2^-7 to 2^-6. A high byte written for one type may
    // be a low byte (a mantissa) of another's, never the high byte of another's with other
    // bits, so every type reads small normal scales.
    for (auto const& scales : scale_bytes) {
        size_t bytes = block_bytes(scales.type);
        if (columns % i32(block_values(scales.type)))
            continue;
        for (size_t b = 0; (b + 1) * bytes <= data.size(); ++b)
            for (u8 k = 0; k < scales.count; ++k)
                data[b * bytes + scales.at[k] + 1] = 0x20;
    }
}

Plan widest_plan(rt::CpuFeatures const& cpu)
{
    Plan plan;
    for (size_t op = 0; op < op_count; ++op)
        for (size_t i = 0; i < variant_count(Op(op)); ++i)
            if (can_run(variant_isa(Op(op), i), cpu))
                plan.choice[op] = u8(i);
    return plan;
}

rt::ErrorOr<Plan> tune(Checkpoint const& checkpoint, rt::CpuFeatures const& cpu, rt::TextSink& report)
{
    Config const& c = checkpoint.config;
    u64 start = rt::read_cycles();
    Plan plan = widest_plan(cpu);
    i32 widest = rt::max(c.dim, c.hidden_dim);
    i32 positions = rt::min(c.seq_len, 256);
    // Scratch inputs; the matrices are the model's own (layer 0's gate projection).
    auto x = TRY(rt::HeapArray<float>::allocate(size_t(widest)));
    auto y = TRY(rt::HeapArray<float>::allocate(size_t(widest)));
    auto out = TRY(rt::HeapArray<float>::allocate(size_t(widest)));
    auto scores = TRY(rt::HeapArray<float>::allocate(size_t(positions)));
    auto keys = TRY(rt::HeapArray<float>::allocate(size_t(positions) * size_t(c.head_size())));
    fill(x.data(), x.size(), 1);
    fill(y.data(), y.size(), 2);
    fill(keys.data(), keys.size(), 3);
    rt::format_to(report, "[tune] {:<10} {:<9} {:>19}  {:>7}\n", "operation", "variant", "median of 7", "speed-up");
    auto& pool = rt::WorkPool::the();

    // The matrix products are timed on layer 0's gate matrix: the model's own when it is
    // F32 or Q8, scratch data of its shape otherwise.
    Tensor const& gate = checkpoint.weights.layers[0].w1;
    // llama2.c int8 rows interleaved in groups of eight (Q8x8) of the gate matrix's shape:
    // the variants, then how many cores share the fastest.
    auto time_q8x8 = [&](const u8* values, const float* scales) -> rt::ErrorOr<void> {
        auto xq = TRY(rt::HeapArray<i8>::allocate(size_t(c.dim)));
        auto xs = TRY(rt::HeapArray<float>::allocate(size_t(c.dim)));
        ops::quantize(xq.data(), xs.data(), x.data(), c.dim, 32);
        plan.choice[size_t(Op::MatmulQ8x8)] = choose("matmul_q8x8", matmul_q8x8_variants(), cpu, report,
            [&](MatmulQ8x8 f) { f(out.data(), xq.data(), xs.data(), nullptr, values, scales, c.dim, c.hidden_dim); });
        auto const& q8x8 = matmul_q8x8_variants()[plan.choice[size_t(Op::MatmulQ8x8)]];
        plan.workers[size_t(Op::MatmulQ8x8)] = choose_workers("matmul_q8x8", q8x8.name, report, [&](size_t workers) {
            pool.parallel_for(size_t(c.hidden_dim), rt::max(row_granule, size_t(32)), [&](size_t begin, size_t end) {
                size_t first = begin * size_t(c.dim);
                q8x8.function(out.data() + begin, xq.data(), xs.data(), nullptr, values + first, scales + first / 32, c.dim, i32(end - begin));
            }, workers);
        });
        return {};
    };
    if (gate.type == TensorType::Q8x8) {
        // llama2.c int8 rows interleaved at load (interleave.h): the plain Q8 kernels run
        // only for odd matrices, which keep the widest variant (widest_plan).
        TRY(time_q8x8(gate.data, gate.scales));
    } else if (gate.type != TensorType::Q8 && runs(checkpoint.weights, Op::Matmul)) {
        // (Only for models with F32 matrices: a scratch copy of TinyLlama's gate matrix is
        // 46 MB, and timing the F32 products on it took 6 of a QEMU boot's 7.5 s of tuning.)
        rt::HeapArray<float> scratch;
        const float* gate_floats = gate.floats();
        if (gate.type != TensorType::F32) {
            scratch = TRY(rt::HeapArray<float>::allocate(size_t(c.dim) * size_t(c.hidden_dim)));
            fill(scratch.data(), scratch.size(), 6);
            gate_floats = scratch.data();
        }
        // With the weights prefetched every set streams the gate matrix at about the same
        // speed here, and a near tie used to go to whichever the noise favoured: SSE2 then
        // generated the 110M model at 26-28 tok/s where AVX-512 gave 30 (a Xeon, the
        // benchmark's rows), its four times as many instructions leaving less room
        // for the loads in flight. So AVX-512 is taken where it is about as fast.
        plan.choice[size_t(Op::Matmul)] = choose("matmul", matmul_variants(), cpu, report,
            [&](MatmulF32 f) { f(out.data(), x.data(), gate_floats, c.dim, c.hidden_dim); }, Isa::Avx512);
        auto const& matmul = matmul_variants()[plan.choice[size_t(Op::Matmul)]];
        plan.workers[size_t(Op::Matmul)] = choose_workers("matmul", matmul.name, report, [&](size_t workers) {
            pool.parallel_for(size_t(c.hidden_dim), row_granule, [&](size_t begin, size_t end) {
                matmul.function(out.data() + begin, x.data(), gate_floats + begin * size_t(c.dim), c.dim, i32(end - begin));
            }, workers);
        });
        // Greedy decoding screens a large classifier through an int8 copy in Q8x8 rows
        // (screened_argmax.h): those rows, timed on the gate matrix quantised the same way.
        if (screens_classifier(checkpoint.weights)) {
            size_t count = size_t(c.hidden_dim) * size_t(c.dim);
            auto values = TRY(rt::HeapArray<i8>::allocate(count));
            auto scales = TRY(rt::HeapArray<float>::allocate(count / 32));
            ops::quantize(values.data(), scales.data(), gate_floats, i32(count), 32);
            Tensor copy { TensorType::Q8, c.hidden_dim, c.dim, reinterpret_cast<const u8*>(values.data()), scales.data(), 32 };
            auto scratch = TRY(rt::HeapArray<u8>::allocate(scratch_bytes(copy)));
            interleave_q8(copy, reinterpret_cast<u8*>(values.data()), scales.data(), { scratch.data(), scratch.size() });
            TRY(time_q8x8(copy.data, copy.scales));
        }
    } else if (gate.type == TensorType::Q8) {
        auto xq = TRY(rt::HeapArray<i8>::allocate(size_t(c.dim)));
        auto xs = TRY(rt::HeapArray<float>::allocate(size_t(c.dim)));
        ops::quantize(xq.data(), xs.data(), x.data(), c.dim, gate.group);
        plan.choice[size_t(Op::MatmulQ8)] = choose("matmul_q8", matmul_q8_variants(), cpu, report,
            [&](MatmulQ8 f) { f(out.data(), xq.data(), xs.data(), gate.int8(), gate.scales, c.dim, c.hidden_dim, gate.group); });
        auto const& matmul_q8 = matmul_q8_variants()[plan.choice[size_t(Op::MatmulQ8)]];
        size_t group = size_t(gate.group);
        plan.workers[size_t(Op::MatmulQ8)] = choose_workers("matmul_q8", matmul_q8.name, report, [&](size_t workers) {
            pool.parallel_for(size_t(c.hidden_dim), rt::max(row_granule, group), [&](size_t begin, size_t end) {
                size_t first = begin * size_t(c.dim);
                matmul_q8.function(out.data() + begin, xq.data(), xs.data(), gate.int8() + first, gate.scales + first / group, c.dim,
                    i32(end - begin), gate.group);
            }, workers);
        });
    }
    // (GGUF models only: interleaved llama2.c int8 models have the inputs' sums too.)
    if (checkpoint.format == WeightFormat::Gguf && checkpoint.weights.input_sums && c.dim % 32 == 0) {
        // The GGUF block types, on scratch blocks: rows as wide as the gate matrix's, an
        // eighth as many (enough to rank the variants; big models would take seconds).
        i32 rows = rt::max(8, c.hidden_dim / 8);
        size_t data_bytes = 0;
        for (auto type : block_types)
            if (c.dim % i32(traits(type).block_values) == 0)
                data_bytes = rt::max(data_bytes, size_t(rows) * row_bytes(type, c.dim));
        auto data = TRY(rt::HeapArray<u8>::allocate(data_bytes));
        fill_scratch_blocks({ data.data(), data.size() }, c.dim);
        auto xq = TRY(rt::HeapArray<i8>::allocate(size_t(c.dim)));
        auto xs = TRY(rt::HeapArray<float>::allocate(size_t(c.dim / 32)));
        ops::quantize(xq.data(), xs.data(), x.data(), c.dim, 32);
        auto xsums = TRY(rt::HeapArray<i32>::allocate(size_t(c.dim / 32)));
        ops::group_sums(xsums.data(), xq.data(), c.dim, 32);
        auto call = Overloaded {
            [&](MatmulBlocks f, float* o, const u8* b, i32 r) { f(o, xq.data(), xs.data(), b, c.dim, r); },
            [&](MatmulKBlocks f, float* o, const u8* b, i32 r) { f(o, xq.data(), xs.data(), xsums.data(), b, c.dim, r); },
        };
        // Each block type's variants on `blocks` (`count` rows), then how many cores share
        // the fastest. `preferred`: a set taken where it is about as fast.
        auto time_blocks = [&](TensorType type, auto variants, const u8* blocks, i32 count, Isa preferred = Isa::Scalar) {
            Op op = traits(type).op;
            if (c.dim % i32(traits(type).block_values))
                return;
            plan.choice[size_t(op)] = choose(op_names[size_t(op)], variants, cpu, report,
                [&](auto f) { call(f, out.data(), blocks, count); }, preferred);
            auto const& variant = variants[plan.choice[size_t(op)]];
            size_t bytes_per_row = row_bytes(type, c.dim);
            plan.workers[size_t(op)] = choose_workers(op_names[size_t(op)], variant.name, report, [&](size_t workers) {
                pool.parallel_for(size_t(count), row_granule, [&](size_t begin, size_t end) {
                    call(variant.function, out.data() + begin, blocks + begin * bytes_per_row, i32(end - begin));
                }, workers);
            });
        };
        auto time_type = [&](TensorType type, auto variants) { time_blocks(type, variants, data.data(), rows); };
        time_type(TensorType::Q8_0, gguf_q8_0_variants());
        // The other types only when the model has them, to keep boots short: the loader
        // repacks Q4_0, Q8_0, Q4_K and Q6_K matrices with whole groups of eight rows
        // (interleave.h), so their plain kernels run only for the odd others.
        auto time_if_used = [&](TensorType type, auto variants) {
            if (multiplies(checkpoint.weights, type))
                time_type(type, variants);
        };
        time_if_used(TensorType::Q4_0, gguf_q4_0_variants());
        time_if_used(TensorType::Q4_K, gguf_q4_k_variants());
        time_if_used(TensorType::Q6_K, gguf_q6_k_variants());
        time_if_used(TensorType::Q5_0, gguf_q5_0_variants());
        time_if_used(TensorType::Q5_1, gguf_q5_1_variants());
        time_if_used(TensorType::Q4_1, gguf_q4_1_variants());
        time_if_used(TensorType::Q5_K, gguf_q5_k_variants());
        // The interleaved types (interleave.h): their plain type's scratch rows, whole
        // groups of them, repacked.
        auto time_interleaved = [&](TensorType plain_type, TensorType type, auto variants) -> rt::ErrorOr<void> {
            if (!multiplies(checkpoint.weights, type) || c.dim % i32(traits(plain_type).block_values))
                return {};
            Tensor plain { plain_type, rows / 8 * 8, c.dim, nullptr };
            size_t bytes = size_t(plain.rows) * plain.row_bytes();
            auto repacked = TRY(rt::HeapArray<u8>::allocate(bytes));
            auto scratch = TRY(rt::HeapArray<u8>::allocate(8 * plain.row_bytes()));
            __builtin_memcpy(repacked.data(), data.data(), bytes);
            interleave(plain, repacked.data(), { scratch.data(), scratch.size() });
            // The one-token choice picks the batch kernels too (batch_kernels.cpp), and
            // avx512vnni's take two groups of rows a vector where avxvnni's take one: where
            // the two sets' one-token kernels run alike (Q8_0x8's are the same 256-bit
            // steps), avx512vnni.
            time_blocks(type, variants, repacked.data(), plain.rows, Isa::Avx512Vnni);
            return {};
        };
        TRY(time_interleaved(TensorType::Q4_0, TensorType::Q4_0x8, gguf_q4_0x8_variants()));
        TRY(time_interleaved(TensorType::Q8_0, TensorType::Q8_0x8, gguf_q8_0x8_variants()));
        TRY(time_interleaved(TensorType::Q4_K, TensorType::Q4_Kx8, gguf_q4_kx8_variants()));
        TRY(time_interleaved(TensorType::Q5_K, TensorType::Q5_Kx8, gguf_q5_kx8_variants()));
        TRY(time_interleaved(TensorType::Q6_K, TensorType::Q6_Kx8, gguf_q6_kx8_variants()));
        time_if_used(TensorType::Q3_K, gguf_q3_k_variants());
        // Q2_K, IQ4_NL and IQ4_XS: avx512vnni's prompt batches put the tokens in the vector
        // lanes (token_lanes.h, two to three times the other sets' batches), so it is taken
        // where its one-token rows are about as fast, and the batches follow.
        auto time_preferring_lanes = [&](TensorType type, auto variants) {
            if (multiplies(checkpoint.weights, type))
                time_blocks(type, variants, data.data(), rows, Isa::Avx512Vnni);
        };
        time_preferring_lanes(TensorType::IQ4_NL, gguf_iq4_nl_variants());
        time_preferring_lanes(TensorType::IQ4_XS, gguf_iq4_xs_variants());
        time_preferring_lanes(TensorType::Q2_K, gguf_q2_k_variants());
    }
    // F16 and BF16 products (GGUF files may keep some or all matrices so): scratch rows as
    // wide as the gate matrix's, an eighth as many, values below 1 in magnitude (normal:
    // subnormal floats would slow some CPUs' products and mislead the timing).
    auto const& layer = checkpoint.weights.layers[0];
    Tensor const* matrices[] = { &layer.wq, &layer.wk, &layer.wv, &layer.wo, &layer.w1, &layer.w2, &layer.w3, &checkpoint.weights.classifier };
    auto time_sixteen_bit = [&](TensorType type, Op op, rt::Span<const Variant<MatmulF16>> variants, const char* name) -> rt::ErrorOr<void> {
        bool used = false;
        for (Tensor const* t : matrices)
            used = used || t->type == type;
        if (!used)
            return {};
        i32 rows = rt::max(16, c.hidden_dim / 8);
        auto values = TRY(rt::HeapArray<u16>::allocate(size_t(rows) * size_t(c.dim)));
        u32 seed = 9;
        for (auto& h : values.span()) {
            u16 bits = u16(((seed = seed * 1664525u + 1013904223u) >> 16));
            // F16: exponent below 15; BF16: exponent 96 to 126
            h = type == TensorType::F16 ? u16(bits & 0xBBFF) : u16((bits & 0x80FF) | ((96 + (bits >> 8) % 31) << 7));
        }
        const u8* bytes = reinterpret_cast<const u8*>(values.data());
        plan.choice[size_t(op)] = choose(name, variants, cpu, report, [&](MatmulF16 f) { f(out.data(), x.data(), bytes, c.dim, rows); });
        auto const& chosen = variants[plan.choice[size_t(op)]];
        plan.workers[size_t(op)] = choose_workers(name, chosen.name, report, [&](size_t workers) {
            pool.parallel_for(size_t(rows), row_granule, [&](size_t begin, size_t end) {
                chosen.function(out.data() + begin, x.data(), bytes + begin * size_t(c.dim) * 2, c.dim, i32(end - begin));
            }, workers);
        });
        return {};
    };
    TRY(time_sixteen_bit(TensorType::F16, Op::GgufF16, gguf_f16_variants(), "gguf_f16"));
    TRY(time_sixteen_bit(TensorType::BF16, Op::GgufBf16, gguf_bf16_variants(), "gguf_bf16"));
    plan.choice[size_t(Op::Rmsnorm)] = choose("rmsnorm", rmsnorm_variants(), cpu, report,
        [&](Rmsnorm f) { f(out.data(), x.data(), y.data(), c.dim, c.norm_epsilon); });
    // Softmax as a token runs it: over each head's scores in every layer, and once over the
    // vocabulary when sampling (most of its work: 32,000 logits against 36 heads' scores at
    // the 15M shape). Timed on the scores alone, a 512-bit variant lost to 256-bit ones on
    // those short rows (~200 against ~120 cycles) and the sampler then ran the slower one
    // over the logits (random 15M model: 29 against 19 us a token). At most 8,192 logits
    // and the heads in proportion: all 32,000 doubled the tuning's time in QEMU (+245 ms).
    // Each call softmaxes the last one's output: probabilities are as good an input as any,
    // and no refill is timed.
    i32 logit_count = rt::min(c.vocab_size, 8192);
    i32 head_calls = rt::max(1, i32(i64(c.n_layers) * c.n_heads * logit_count / c.vocab_size));
    auto logits = TRY(rt::HeapArray<float>::allocate(size_t(logit_count)));
    fill(logits.data(), logits.size(), 4);
    fill(scores.data(), scores.size(), 4);
    plan.choice[size_t(Op::Softmax)] = choose("softmax", softmax_variants(), cpu, report, [&](Softmax f) {
        for (i32 head = 0; head < head_calls; ++head)
            f(scores.data(), positions);
        f(logits.data(), logit_count);
    });
    size_t key_stride = size_t(c.head_size());
    plan.choice[size_t(Op::Attention)] = choose("attention", attention_variants(), cpu, report, [&](AttentionKernels f) {
        f.scores(scores.data(), x.data(), keys.data(), key_stride, positions, c.head_size(), 8.0f);
        f.weighted_sum(out.data(), scores.data(), keys.data(), key_stride, positions, c.head_size());
    });
    // Attention is split by heads: every head scores the same scratch keys.
    auto const& attention = attention_variants()[plan.choice[size_t(Op::Attention)]];
    auto head_scores = TRY(rt::HeapArray<float>::allocate(size_t(c.n_heads) * size_t(positions)));
    auto head_outputs = TRY(rt::HeapArray<float>::allocate(size_t(c.n_heads) * size_t(c.head_size())));
    plan.workers[size_t(Op::Attention)] = choose_workers("attention", attention.name, report, [&](size_t workers) {
        pool.parallel_for(size_t(c.n_heads), 1, [&](size_t first, size_t end) {
            for (size_t h = first; h < end; ++h) {
                float* s = head_scores.data() + h * size_t(positions);
                float* o = head_outputs.data() + h * size_t(c.head_size());
                attention.function.scores(s, x.data(), keys.data(), key_stride, positions, c.head_size(), 8.0f);
                softmax_variants()[plan.choice[size_t(Op::Softmax)]].function(s, positions);
                attention.function.weighted_sum(o, s, keys.data(), key_stride, positions, c.head_size());
            }
        }, workers);
    });
    plan.choice[size_t(Op::Swiglu)] = choose("swiglu", swiglu_variants(), cpu, report, [&](Swiglu f) {
        fill(out.data(), size_t(c.hidden_dim), 5);
        f(out.data(), y.data(), c.hidden_dim);
    });
    // The matrix products' input quantisation (models with int8 or block weights), at the
    // hidden layer's width (the screened classifier's input takes groups of 32).
    i32 group = screens_classifier(checkpoint.weights) ? 32 : checkpoint.weights.input_group;
    if (group > 0 && c.hidden_dim % group == 0) {
        auto xq = TRY(rt::HeapArray<i8>::allocate(size_t(c.hidden_dim)));
        auto xs = TRY(rt::HeapArray<float>::allocate(size_t(c.hidden_dim / group)));
        fill(out.data(), size_t(c.hidden_dim), 7);
        plan.choice[size_t(Op::Quantize)] = choose("quantize", quantize_variants(), cpu, report,
            [&](Quantize f) { f(xq.data(), xs.data(), out.data(), c.hidden_dim, group); });
    }
    rt::format_to(report, "[tune] tuning took {:.1f} ms\n", rt::CycleClock::to_microseconds(rt::read_cycles() - start) / 1000.0);
    return plan;
}

}
