#pragma once
// A llama model from a GGUF file: hyperparameters from the `llama.*` metadata, tensors
// by llama.cpp's names, every one checked for presence, type and shape.
#include "checkpoint.h"
#include "gguf.h"

namespace llm {

rt::ErrorOr<Checkpoint> load_gguf_checkpoint(gguf::File const&);

}
