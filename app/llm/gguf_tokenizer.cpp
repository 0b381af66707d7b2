#include "gguf_tokenizer.h"
#include "bigram_queue.h"

namespace llm {

namespace {

size_t utf8_length(u8 lead)
{
    if (lead < 0x80)
        return 1;
    if ((lead & 0xE0) == 0xC0)
        return 2;
    if ((lead & 0xF0) == 0xE0)
        return 3;
    if ((lead & 0xF8) == 0xF0)
        return 4;
    return 1; // a stray continuation byte stands alone
}

}

namespace {

// llama.cpp's token types (tokenizer.ggml.token_type).
enum TokenType : i32 { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

// The tokens a template's or prompt's text may name: CONTROL, USER_DEFINED and UNKNOWN
// ones (llama.cpp parses "<unk>" in a prompt as the unknown token too). USER_DEFINED ones
// (a vocabulary's additions, such as MPT's runs of spaces) are found in any text, as
// llama.cpp finds them. Files without token types still have BOS and EOS.
rt::ErrorOr<rt::HeapArray<GgufTokenizer::SpecialToken>> find_special_tokens(gguf::File const& file, i32 vocab_size, i32 bos, i32 eos)
{
    using Special = GgufTokenizer::SpecialToken;
    if (!file.find("tokenizer.ggml.token_type")) {
        auto ids = TRY(rt::HeapArray<Special>::allocate(bos == eos ? 1 : 2));
        ids[0] = { rt::min(bos, eos), false, true }; // in id order, as is_control searches them
        if (bos != eos)
            ids[1] = { rt::max(bos, eos), false, true };
        return ids;
    }
    auto types = TRY(file.get_array("tokenizer.ggml.token_type", gguf::ValueType::Int32));
    if (types.count != u64(vocab_size))
        return rt::Error::format("tokenizer: {} token types for {} tokens", types.count, vocab_size);
    auto type_of = [&](i32 id) {
        i32 type;
        __builtin_memcpy(&type, types.data + 4 * size_t(id), 4);
        return type;
    };
    auto is_special = [&](i32 id) { return type_of(id) == Control || type_of(id) == UserDefined || type_of(id) == Unknown; };
    size_t count = 0;
    for (i32 id = 0; id < vocab_size; ++id)
        count += is_special(id);
    auto ids = TRY(rt::HeapArray<Special>::allocate(count));
    count = 0;
    for (i32 id = 0; id < vocab_size; ++id)
        if (is_special(id))
            ids[count++] = { id, type_of(id) == UserDefined, type_of(id) == Control };
    return ids;
}

}

namespace {

// A special token's id from the metadata (or llama's default when the key is absent). A
// present but negative, mistyped or too large id is an error: it would index past the
// token table the first time the token is used.
rt::ErrorOr<i32> special_id(gguf::File const& file, rt::StringView key, i32 fallback, i32 vocab_size)
{
    if (!file.find(key)) {
        if (fallback >= vocab_size)
            return rt::Error::format("tokenizer: {} is missing and the default {} is outside the vocabulary of {} tokens", key, fallback, vocab_size);
        return fallback;
    }
    auto id = file.get_integer(key);
    if (id.is_error())
        return rt::Error::format("tokenizer: {}", id.error().message());
    if (id.value() >= u64(vocab_size))
        return rt::Error::format("tokenizer: {} = {} is outside the vocabulary of {} tokens", key, id.value(), vocab_size);
    return i32(id.value());
}

}

rt::ErrorOr<GgufTokenizer> GgufTokenizer::load(gguf::File const& file)
{
    auto model = TRY(file.get_string("tokenizer.ggml.model"));
    if (!(model == "llama") && !(model == "gpt2"))
        return rt::Error::format("tokenizer: GGUF tokenizer model \"{}\" is not supported (llama SentencePiece and gpt2 byte-level BPE are)", model);
    GgufTokenizer t;
    t.m_byte_level = model == "gpt2";
    auto tokens = TRY(file.get_array("tokenizer.ggml.tokens", gguf::ValueType::String));
    if (tokens.count == 0 || tokens.count > (1u << 20))
        return rt::Error::format("tokenizer: {} tokens", tokens.count);
    // BPE ranks by merges; SentencePiece by the scores, which it must have.
    gguf::Value scores {};
    if (!t.m_byte_level || file.find("tokenizer.ggml.scores")) {
        scores = TRY(file.get_array("tokenizer.ggml.scores", gguf::ValueType::Float32));
        if (scores.count != tokens.count)
            return rt::Error::format("tokenizer: {} tokens with {} scores", tokens.count, scores.count);
    }
    t.m_vocab_size = i32(tokens.count);
    t.m_pieces = TRY(rt::HeapArray<rt::StringView>::allocate(size_t(tokens.count)));
    t.m_scores = TRY(rt::HeapArray<float>::allocate_zeroed(size_t(tokens.count)));
    gguf::StringArrayCursor cursor(tokens);
    for (size_t i = 0; i < size_t(tokens.count); ++i) {
        cursor.next(t.m_pieces[i]);
        if (scores.count)
            __builtin_memcpy(&t.m_scores[i], scores.data + 4 * i, 4);
    }
    t.m_bos = TRY(special_id(file, "tokenizer.ggml.bos_token_id", 1, t.m_vocab_size));
    t.m_eos = TRY(special_id(file, "tokenizer.ggml.eos_token_id", 2, t.m_vocab_size));
    if (auto prefix = file.get_integer("tokenizer.ggml.add_space_prefix"); !prefix.is_error())
        t.m_add_space_prefix = prefix.value() != 0;
    t.m_add_bos = !t.m_byte_level;
    if (auto add_bos = file.get_integer("tokenizer.ggml.add_bos_token"); !add_bos.is_error())
        t.m_add_bos = add_bos.value() != 0;
    t.m_special_tokens = TRY(find_special_tokens(file, t.m_vocab_size, t.m_bos, t.m_eos));

    t.m_index = TRY(PieceIndex::build({ t.m_pieces.data(), t.m_pieces.size() }));
    t.find_end_tokens(file);
    if (t.m_byte_level)
        TRY(t.load_byte_level(file));
    size_t longest = 0;
    for (i32 id = 0; id < t.m_vocab_size; ++id)
        longest = rt::max(longest, t.m_pieces[size_t(id)].length());
    t.m_decode_buffer = TRY(rt::HeapArray<char>::allocate(longest + 1));
    for (int b = 0; b < 256; ++b)
        t.m_byte_values[b] = u8(b);
    const char* hex = "0123456789ABCDEF";
    t.m_byte_of_token = TRY(rt::HeapArray<i16>::allocate(size_t(t.m_vocab_size)));
    for (i32 id = 0; id < t.m_vocab_size; ++id)
        t.m_byte_of_token[size_t(id)] = -1;
    for (int b = 0; b < 256; ++b) {
        char name[6] = { '<', '0', 'x', hex[b >> 4], hex[b & 15], '>' };
        t.m_byte_tokens[b] = t.lookup({ name, 6 });
        if (t.m_byte_tokens[b] >= 0)
            t.m_byte_of_token[size_t(t.m_byte_tokens[b])] = i16(b);
    }
    return t;
}

i32 GgufTokenizer::lookup(rt::StringView text) const
{
    return m_index.find(text);
}

rt::ErrorOr<size_t> GgufTokenizer::encode(rt::StringView text, bool add_bos, rt::Span<i32> tokens) const
{
    if (tokens.size() < 3 * text.length() + 4)
        return rt::Error::format("tokenizer: token buffer of {} too small for {} bytes", tokens.size(), text.length());
    size_t count = 0;
    if (add_bos)
        tokens[count++] = m_bos;
    Fragment plain { text, false };
    return count + TRY(encode_fragments({ &plain, 1 }, { tokens.data() + count, tokens.size() - count }));
}

rt::ErrorOr<i32> GgufTokenizer::encode_prompt(rt::StringView text, rt::Span<i32> tokens) const
{
    if (tokens.size() < token_capacity(text.length()))
        return rt::Error::format("tokenizer: token buffer of {} too small for {} bytes", tokens.size(), text.length());
    size_t count = 0;
    if (m_add_bos)
        tokens[count++] = m_bos;
    Fragment prompt { text, true };
    count += TRY(encode_fragments({ &prompt, 1 }, { tokens.data() + count, tokens.size() - count }));
    // A text starts somewhere: an empty prompt starts from BOS even where the vocabulary
    // puts none before texts (Qwen's, SmolLM's), rather than from no token at all.
    if (count == 0)
        tokens[count++] = m_bos;
    return i32(count);
}

i32 GgufTokenizer::special_token_at(rt::StringView text, size_t& length, bool template_text) const
{
    i32 found = -1;
    length = 0;
    for (size_t i = 0; i < m_special_tokens.size(); ++i) {
        if (!template_text && !m_special_tokens[i].in_any_text)
            continue;
        i32 id = m_special_tokens[i].id;
        rt::StringView piece = m_pieces[size_t(id)];
        if (piece.length() > length && text.starts_with(piece)) {
            found = id;
            length = piece.length();
        }
    }
    return found;
}

rt::ErrorOr<size_t> GgufTokenizer::encode_fragments(rt::Span<const Fragment> fragments, rt::Span<i32> tokens) const
{
    size_t total = 0;
    for (auto const& f : fragments)
        total += f.text.length();
    // Text between special tokens is gathered here and encoded in one piece.
    auto pending = TRY(rt::HeapArray<char>::allocate(total + 1));
    size_t pending_length = 0, count = 0;
    bool after_special = true; // llama.cpp: the space prefix goes at the start and after special tokens
    auto flush = [&]() -> rt::ErrorOr<void> {
        if (pending_length == 0)
            return {};
        count += TRY(encode_text({ pending.data(), pending_length }, m_add_space_prefix && after_special,
            { tokens.data() + count, tokens.size() - count }));
        pending_length = 0;
        after_special = false;
        return {};
    };
    for (auto const& f : fragments) {
        for (size_t i = 0; i < f.text.length();) {
            size_t length = 0;
            i32 special = special_token_at(f.text.substring(i), length, f.is_template);
            if (special >= 0) {
                TRY(flush());
                if (count == tokens.size())
                    return rt::Error::format("tokenizer: token buffer of {} too small for {} bytes", tokens.size(), total);
                tokens[count++] = special;
                after_special = true;
                i += length;
            } else {
                pending[pending_length++] = f.text[i++];
            }
        }
    }
    TRY(flush());
    return count;
}

rt::ErrorOr<size_t> GgufTokenizer::encode_text(rt::StringView text, bool space_prefix, rt::Span<i32> tokens) const
{
    if (m_byte_level)
        return encode_words(text, tokens);
    // At most one token per byte of the escaped text (byte fallback), 3 bytes per space.
    if (tokens.size() < 3 * (text.length() + (space_prefix ? 1 : 0)))
        return rt::Error::format("tokenizer: token buffer of {} too small for {} bytes", tokens.size(), text.length());
    size_t count = 0;
    if (text.is_empty())
        return count;
    // SentencePiece's view of the text: a leading space, every space as U+2581.
    size_t escaped_capacity = 3 * (text.length() + 1);
    auto escaped = TRY(rt::HeapArray<char>::allocate(escaped_capacity));
    size_t length = 0;
    auto put_space = [&] {
        escaped[length++] = char(0xE2);
        escaped[length++] = char(0x96);
        escaped[length++] = char(0x81);
    };
    if (space_prefix)
        put_space();
    for (char c : text) {
        if (c == ' ')
            put_space();
        else
            escaped[length++] = c;
    }

    auto symbols = TRY(rt::HeapArray<Symbol>::allocate(length));
    size_t symbol_count = 0;
    for (size_t offset = 0; offset < length;) {
        size_t n = rt::min(utf8_length(u8(escaped[offset])), length - offset);
        symbols[symbol_count] = { u32(offset), u32(n), i32(symbol_count) - 1, offset + n == length ? -1 : i32(symbol_count) + 1 };
        ++symbol_count;
        offset += n;
    }
    // Every merge adds at most two bigrams to the first n - 1: 3n bounds the queue.
    auto storage = TRY(rt::HeapArray<Bigram>::allocate(3 * symbol_count + 4));
    BigramQueue queue(storage.data(), storage.size());
    auto try_add = [&](i32 left, i32 right) {
        if (left < 0 || right < 0)
            return;
        Symbol const& l = symbols[size_t(left)];
        Symbol const& r = symbols[size_t(right)];
        i32 id = lookup({ escaped.data() + l.offset, size_t(l.length + r.length) });
        if (id >= 0)
            queue.push({ m_scores[size_t(id)], left, right, l.length + r.length });
    };
    for (size_t i = 1; i < symbol_count; ++i)
        try_add(i32(i - 1), i32(i));
    join_pairs(symbols.data(), queue, [](Symbol&, Symbol&) {}, try_add); // a symbol is its bytes: joining adds the lengths
    for (i32 i = 0; i != -1 && symbol_count; i = symbols[size_t(i)].next) {
        Symbol const& s = symbols[size_t(i)];
        i32 id = lookup({ escaped.data() + s.offset, s.length });
        if (id >= 0) {
            tokens[count++] = id;
            continue;
        }
        for (u32 k = 0; k < s.length; ++k) {
            i32 byte_token = m_byte_tokens[u8(escaped[s.offset + k])];
            if (byte_token < 0)
                return rt::Error::format("tokenizer: the vocabulary has no byte token for {:#04x}", u8(escaped[s.offset + k]));
            tokens[count++] = byte_token;
        }
    }
    return count;
}

namespace {
// Control tokens that end a turn or a text, by their text (llama.cpp goes by these too).
constexpr rt::StringView end_token_texts[] = { "<|eot_id|>", "<|im_end|>", "<|endoftext|>", "<|end_of_text|>", "<|end|>", "<end_of_turn>", "<|eom_id|>" };
}

void GgufTokenizer::find_end_tokens(gguf::File const& file)
{
    auto add = [&](i32 id) {
        for (size_t i = 0; i < m_end_token_count; ++i)
            if (m_end_tokens[i] == id)
                return;
        if (id >= 0 && id < m_vocab_size && m_end_token_count < max_end_tokens)
            m_end_tokens[m_end_token_count++] = id;
    };
    add(m_eos);
    add(m_bos);
    static constexpr rt::StringView end_keys[] = { "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id" };
    for (auto key : end_keys)
        if (auto id = file.get_integer(key); !id.is_error() && id.value() < u64(m_vocab_size))
            add(i32(id.value()));
    // By their text, control or user-defined: Phi-3's files mark <|end|> user-defined, and
    // a reply would run on past it, printing it. It becomes a control token, never printed
    // (llama.cpp overrides such a type the same way).
    for (size_t i = 0; i < m_special_tokens.size(); ++i) {
        for (auto text : end_token_texts)
            if (m_pieces[size_t(m_special_tokens[i].id)] == text) {
                add(m_special_tokens[i].id);
                m_special_tokens[i].control = true;
            }
    }
}

bool GgufTokenizer::ends_text(i32 token) const
{
    for (size_t i = 0; i < m_end_token_count; ++i)
        if (m_end_tokens[i] == token)
            return true;
    return false;
}

bool GgufTokenizer::is_control(i32 token) const
{
    size_t low = 0, high = m_special_tokens.size(); // in id order
    while (low < high) {
        size_t middle = (low + high) / 2;
        if (m_special_tokens[middle].id < token)
            low = middle + 1;
        else
            high = middle;
    }
    return low < m_special_tokens.size() && m_special_tokens[low].id == token && m_special_tokens[low].control;
}

bool GgufTokenizer::printable(rt::StringView piece) const
{
    if (piece.length() != 1)
        return true;
    u8 c = u8(piece[0]);
    return c >= 0x20 ? c != 0x7F : (c >= '\t' && c <= '\r');
}

rt::StringView GgufTokenizer::decode(i32 previous, i32 token) const
{
    if (token < 0 || token >= m_vocab_size)
        return {};
    if (is_control(token)) // <|im_start|>, <|eot_id|>, </s> ...: markers, not text
        return {};
    rt::StringView piece = m_pieces[size_t(token)];
    if (m_byte_level)
        return decode_byte_level(piece);
    if (i16 byte = m_byte_of_token[size_t(token)]; byte >= 0)
        return { reinterpret_cast<const char*>(&m_byte_values[byte]), 1 };
    // U+2581 (e2 96 81) back to spaces; the one starting the text after BOS is dropped.
    size_t length = 0;
    for (size_t i = 0; i < piece.length();) {
        if (i + 3 <= piece.length() && u8(piece[i]) == 0xE2 && u8(piece[i + 1]) == 0x96 && u8(piece[i + 2]) == 0x81) {
            if (!(i == 0 && previous == m_bos))
                m_decode_buffer[length++] = ' ';
            i += 3;
        } else {
            m_decode_buffer[length++] = piece[i++];
        }
    }
    return { m_decode_buffer.data(), length };
}

}
