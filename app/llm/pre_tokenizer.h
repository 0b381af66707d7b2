#pragma once
// Byte-level BPE vocabularies are trained on words, not on whole texts: before any merging
// the text is cut where GPT-2's expression cuts it,
//     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)
// (a contraction; a run of letters, of numbers or of other characters, each with the space
// before it; whitespace, less its last character when a word follows), and text it leaves
// unmatched is a word of its own. SmolLM's vocabularies (tokenizer.ggml.pre "smollm") first
// make every number character a word of its own. Llama 3's ("llama-bpe") cut with
//     (?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}
//     | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// (letters take any one character but a line break or a digit before them, numbers come in
// threes, line breaks end their whitespace), and Qwen2's the same with one digit a word.
// GPT-4o's ("gpt-4o": Phi-4's, Llama 4's) cut words at changes of case, as llama.cpp
// applies it (a letter outside a-z counts as upper case, one outside A-Z as lower):
//     [^\r\n\p{L}\p{N}]?U*L+C?|[^\r\n\p{L}\p{N}]?U+L*C?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*
//     |\s*[\r\n]+|\s+(?!\S)|\s+
// with U = (?=\p{L})[^a-z], L = (?=\p{L})[^A-Z] and C Llama 3's contractions, which only
// follow a word here; Tekken's (Mistral's) the same without C and with one digit a word.
// Which characters are letters and numbers follows Unicode's categories for the scripts in tables here (Latin, Greek, Cyrillic,
// Armenian, Hebrew, Arabic, Indic, Thai, CJK, kana, Hangul, fullwidth forms); other
// characters count as neither.
#include <rt/string_view.h>

namespace llm {

enum class PreTokenizer { Gpt2, SmolLm, Llama3, Qwen2, Gpt4o, Tekken };

// Where the word that starts at `from` (before the end of `text`) ends.
size_t word_end(rt::StringView text, size_t from, PreTokenizer);

namespace unicode {
bool is_letter(u32 character);
bool is_number(u32 character);
bool is_space(u32 character);
}

}
