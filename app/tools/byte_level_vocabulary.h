#pragma once
// A small byte-level BPE vocabulary made here, for test models in SmolLM's file layout
// (bareflow-convert-gguf --random mini byte-level): SmolLM's three special tokens first
// (<|endoftext|>, <|im_start|>, <|im_end|>), the 256 bytes' characters (llm::byte_level),
// then the tokens of `merge_count` merges learned from a few sentences the way BPE training
// learns them: the most frequent adjacent pair within words first (ties: the pair seen first).
// Host code only.
#include "../llm/byte_level.h"
#include <map>
#include <string>
#include <vector>

namespace tools {

struct ByteLevelVocabulary {
    std::vector<std::string> tokens;
    std::vector<std::string> merges;
};

inline std::string byte_level_character(u8 b)
{
    u32 c = llm::byte_level::character_of(b);
    if (c < 0x80)
        return std::string(1, char(c));
    return { char(0xC0 | (c >> 6)), char(0x80 | (c & 0x3F)) };
}

inline ByteLevelVocabulary learn_byte_level_vocabulary(size_t merge_count)
{
    const char* sample = "Once upon a time, there was a little girl named Lily. She liked to play in the park with her friends. "
                         "One day, the sun was shining and the birds were singing. What is two and two? Hello there, how are you today? "
                         "The little dog ran to the tree, and the girl ran after him. They played all day until it was time to go home.";
    ByteLevelVocabulary v { { "<|endoftext|>", "<|im_start|>", "<|im_end|>" }, {} };
    for (int b = 0; b < 256; ++b)
        v.tokens.push_back(byte_level_character(u8(b)));
    // Words as GPT-2 cuts plain prose: each with the space before it.
    std::vector<std::vector<std::string>> words;
    std::string text = sample;
    for (size_t at = 0; at < text.size();) {
        size_t end = at + 1;
        while (end < text.size() && text[end] != ' ')
            ++end;
        std::vector<std::string> symbols;
        for (size_t i = at; i < end; ++i)
            symbols.push_back(byte_level_character(u8(text[i])));
        words.push_back(symbols);
        at = end;
    }
    for (size_t n = 0; n < merge_count; ++n) {
        std::map<std::pair<std::string, std::string>, size_t> counts, first_seen;
        size_t order = 0;
        for (auto const& w : words)
            for (size_t i = 0; i + 1 < w.size(); ++i) {
                auto pair = std::make_pair(w[i], w[i + 1]);
                if (counts[pair]++ == 0)
                    first_seen[pair] = order++;
            }
        if (counts.empty())
            break;
        auto best = counts.begin();
        for (auto it = counts.begin(); it != counts.end(); ++it)
            if (it->second > best->second || (it->second == best->second && first_seen[it->first] < first_seen[best->first]))
                best = it;
        auto [left, right] = best->first;
        v.merges.push_back(left + " " + right);
        v.tokens.push_back(left + right);
        for (auto& w : words)
            for (size_t i = 0; i + 1 < w.size(); ++i)
                if (w[i] == left && w[i + 1] == right) {
                    w[i] += right;
                    w.erase(w.begin() + long(i) + 1);
                }
    }
    return v;
}

}
