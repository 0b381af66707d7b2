// libFuzzer target: a llama2.c checkpoint and tokenizer (input: checkpoint, separator,
// tokenizer). Whatever the loaders accept must survive a prompt, a few forward passes and
// int8 quantisation at load time without reading outside either file.
#include "../../app/llm/checkpoint.h"
#include "../../app/llm/generate.h"
#include "../../app/llm/tokenizer.h"
#include "fuzz_support.h"

namespace {
class Discard final : public rt::TextSink {
public:
    void write(rt::StringView) override {}
};
}

extern "C" int LLVMFuzzerTestOneInput(const u8* data, size_t size)
{
    fuzz::reset_heap(64 << 20);
    auto parts = fuzz::split(data, size, 2);
    fuzz::Part model(parts.parts[0].data(), parts.parts[0].size());
    fuzz::Part tokenizer_file(parts.parts[1].data(), parts.parts[1].size());
    auto checkpoint = llm::load_checkpoint(model.bytes());
    if (checkpoint.is_error())
        return 0;
    auto tokenizer = llm::Tokenizer::load(tokenizer_file.bytes(), checkpoint.value().config.vocab_size);
    if (tokenizer.is_error())
        return 0;
    for (i32 token = 0; token < tokenizer.value().vocab_size(); ++token)
        (void)tokenizer.value().decode(1, token);
    // A context too long to be cheap is not what this target looks for.
    if (checkpoint.value().config.seq_len > 4096)
        return 0;
    auto& checkpoint_value = checkpoint.value();
    auto run = [&] {
        auto transformer = llm::Transformer::create(checkpoint_value);
        auto sampler = llm::Sampler::create(checkpoint_value.config.vocab_size, 0.0f, 0.9f, 1);
        if (transformer.is_error() || sampler.is_error())
            return;
        Discard out;
        (void)llm::generate(transformer.value(), tokenizer.value(), sampler.value(), "Once upon a time", 8, out);
    };
    run();
    // Then as quant=q8 would: int8 groups of 32, halved until they divide dim.
    if (checkpoint_value.format == llm::WeightFormat::Float32) {
        i32 group = 32;
        while (checkpoint_value.config.dim % group)
            group /= 2;
        if (!llm::quantize_checkpoint(checkpoint_value, group).is_error())
            run();
    }
    return 0;
}
