// Prints the words llm::word_end cuts each text on stdin into, each followed by a NUL byte,
// for pre_tokenizer_test.py to compare with the expressions the vocabularies were made with.
// Texts are separated by the byte 0x01 (which they do not hold), and so are their words.
//   pre_tokenizer_words gpt2|smollm|llama3|qwen2|gpt-4o|tekken < TEXTS
#include "../../app/llm/pre_tokenizer.h"
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

int main(int argc, char** argv)
{
    std::string name = argc > 1 ? argv[1] : "";
    llm::PreTokenizer pre;
    if (name == "gpt2")
        pre = llm::PreTokenizer::Gpt2;
    else if (name == "smollm")
        pre = llm::PreTokenizer::SmolLm;
    else if (name == "llama3")
        pre = llm::PreTokenizer::Llama3;
    else if (name == "qwen2")
        pre = llm::PreTokenizer::Qwen2;
    else if (name == "gpt-4o")
        pre = llm::PreTokenizer::Gpt4o;
    else if (name == "tekken")
        pre = llm::PreTokenizer::Tekken;
    else {
        fprintf(stderr, "usage: pre_tokenizer_words gpt2|smollm|llama3|qwen2|gpt-4o|tekken < TEXTS\n");
        return 2;
    }
    std::string all((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    for (size_t start = 0; start < all.size();) {
        size_t stop = all.find('\x01', start);
        if (stop == std::string::npos)
            stop = all.size();
        std::string text = all.substr(start, stop - start);
        for (size_t at = 0; at < text.size();) {
            size_t end = llm::word_end({ text.data(), text.size() }, at, pre);
            if (end <= at || end > text.size()) {
                fprintf(stderr, "pre_tokenizer_words: no progress at byte %zu\n", at);
                return 1;
            }
            fwrite(text.data() + at, 1, end - at, stdout);
            fputc(0, stdout);
            at = end;
        }
        fputc(1, stdout);
        start = stop + 1;
    }
    return 0;
}
