#pragma once
// The default model, stories260K.bin with tok512.bin, which most generation tests run: its
// files read for one test, and loaded once that test's heap is in place.
#include "../../app/llm/checkpoint.h"
#include "../../app/llm/tokenizer.h"
#include "models.h"

namespace testing_support {

struct DefaultModel {
    std::vector<u8> model, tokenizer_file;

    bool read() { return read_model_file("stories260K.bin", model) && read_model_file("tok512.bin", tokenizer_file); }
    llm::Checkpoint load_checkpoint() const { return llm::load_checkpoint({ model.data(), model.size() }).release_value(); }
    llm::Tokenizer load_tokenizer() const
    {
        return llm::Tokenizer::load({ tokenizer_file.data(), tokenizer_file.size() }, 512).release_value();
    }
};

}

#define REQUIRE_DEFAULT_MODEL(files)                                                                         \
    if (!(files).read())                                                                                     \
        GTEST_SKIP() << "stories260K.bin or tok512.bin not found in " << testing_support::models_directory() \
                     << " (set BAREFLOW_MODELS)";
