#include "tokenizer.h"

namespace llm {

namespace {

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

// "<0xAB>" -> 0xAB, or -1 when the piece is not a raw byte token.
int raw_byte(rt::StringView piece)
{
    if (piece.length() != 6 || !piece.starts_with("<0x") || piece[5] != '>')
        return -1;
    int high = hex_digit(piece[3]), low = hex_digit(piece[4]);
    return high < 0 || low < 0 ? -1 : high * 16 + low;
}

}

rt::ErrorOr<Tokenizer> Tokenizer::load(rt::Bytes file, i32 vocab_size)
{
    if (file.size() < 4)
        return rt::Error::format("tokenizer: the module is {} bytes, too small for a tokenizer", file.size());
    // BOS, EOS and the byte tokens have fixed ids in llama2.c's format: the vocabulary must
    // hold them all, or encoding would index past the token table.
    if (vocab_size < first_byte_token + 256)
        return rt::Error::format("tokenizer: a vocabulary of {} tokens cannot hold BOS (1), EOS (2) and the 256 byte tokens (3..258)", vocab_size);
    Tokenizer t;
    t.m_vocab_size = vocab_size;
    __builtin_memcpy(&t.m_max_token_length, file.data(), 4);
    if (t.m_max_token_length == 0 || t.m_max_token_length > 4096)
        return rt::Error::format("tokenizer: max token length {} is not plausible (not a llama2.c tokenizer?)", t.m_max_token_length);
    t.m_pieces = TRY(rt::HeapArray<rt::StringView>::allocate(size_t(vocab_size)));
    t.m_scores = TRY(rt::HeapArray<float>::allocate(size_t(vocab_size)));

    size_t offset = 4;
    for (i32 id = 0; id < vocab_size; ++id) {
        if (offset == file.size())
            return rt::Error::format("tokenizer: it has {} tokens but the model's vocabulary has {}: they do not belong together", id, vocab_size);
        if (file.size() - offset < 8)
            return rt::Error::format("tokenizer: truncated in token {} (of {})", id, vocab_size);
        i32 length;
        __builtin_memcpy(&t.m_scores[size_t(id)], file.data() + offset, 4);
        __builtin_memcpy(&length, file.data() + offset + 4, 4);
        offset += 8;
        if (length < 0 || u32(length) > t.m_max_token_length || u64(length) > file.size() - offset)
            return rt::Error::format("tokenizer: token {} has length {} (max {}, {} bytes left)", id, length, t.m_max_token_length, file.size() - offset);
        t.m_pieces[size_t(id)] = { reinterpret_cast<const char*>(file.data() + offset), size_t(length) };
        offset += size_t(length);
    }
    if (offset != file.size())
        return rt::Error::format("tokenizer: {} bytes remain after the model's {} tokens: it has a larger vocabulary than the model", file.size() - offset, vocab_size);
    for (int b = 0; b < 256; ++b)
        if (raw_byte(t.m_pieces[size_t(first_byte_token + b)]) != b)
            return rt::Error::format("tokenizer: token {} is \"{}\", not the byte token <0x{:02X}> that byte fallback needs there", first_byte_token + b,
                t.m_pieces[size_t(first_byte_token + b)], b);

    t.m_index = TRY(PieceIndex::build({ t.m_pieces.data(), t.m_pieces.size() }));
    t.m_merge_buffer = TRY(rt::HeapArray<char>::allocate(size_t(t.m_max_token_length) * 2 + 8));
    for (int b = 0; b < 256; ++b)
        t.m_byte_values[b] = u8(b);
    return t;
}

i32 Tokenizer::lookup(rt::StringView text) const
{
    return m_index.find(text);
}

rt::ErrorOr<i32> Tokenizer::encode(rt::StringView text, bool add_bos, bool add_eos, rt::Span<i32> tokens) const
{
    if (tokens.size() < text.length() + 3)
        return rt::Error::format("tokenizer: token buffer of {} too small for {} bytes of text", tokens.size(), text.length());
    size_t count = 0;
    if (add_bos)
        tokens[count++] = bos;
    // SentencePiece starts non-empty text with a space ("dummy prefix").
    if (!text.is_empty()) {
        i32 space = lookup(" ");
        if (space >= 0)
            tokens[count++] = space;
    }
    // One token per UTF-8 code point where the vocabulary has it, else one per byte.
    for (size_t i = 0; i < text.length();) {
        size_t length = 1;
        while (length < 4 && i + length < text.length() && (u8(text[i + length]) & 0xC0) == 0x80)
            ++length;
        if ((u8(text[i]) & 0xC0) == 0x80)
            length = 1; // a stray continuation byte stands alone
        i32 id = lookup(text.substring(i, length));
        if (id >= 0) {
            tokens[count++] = id;
        } else {
            for (size_t b = 0; b < length; ++b)
                tokens[count++] = i32(u8(text[i + b])) + first_byte_token; // checked at load
        }
        i += length;
    }
    // Merge the best-scoring adjacent pair until no pair forms a known piece.
    while (true) {
        float best_score = -1e10f;
        i32 best_id = -1;
        size_t best_index = 0;
        for (size_t i = 0; i + 1 < count; ++i) {
            rt::StringView a = m_pieces[size_t(tokens[i])], b = m_pieces[size_t(tokens[i + 1])];
            if (a.length() + b.length() > m_max_token_length)
                continue;
            __builtin_memcpy(m_merge_buffer.data(), a.data(), a.length());
            __builtin_memcpy(m_merge_buffer.data() + a.length(), b.data(), b.length());
            i32 id = lookup({ m_merge_buffer.data(), a.length() + b.length() });
            if (id >= 0 && m_scores[size_t(id)] > best_score) {
                best_score = m_scores[size_t(id)];
                best_id = id;
                best_index = i;
            }
        }
        if (best_id < 0)
            break;
        tokens[best_index] = best_id;
        for (size_t i = best_index + 1; i + 1 < count; ++i)
            tokens[i] = tokens[i + 1];
        --count;
    }
    if (add_eos)
        tokens[count++] = eos;
    return i32(count);
}

rt::StringView Tokenizer::decode(i32 previous, i32 token) const
{
    rt::StringView piece = m_pieces[size_t(token)];
    // After BOS, SentencePiece's leading space is not part of the text.
    if (previous == bos && !piece.is_empty() && piece[0] == ' ')
        piece = piece.substring(1);
    int byte = raw_byte(piece);
    if (byte >= 0)
        return { reinterpret_cast<const char*>(&m_byte_values[byte]), 1 };
    return piece;
}

bool is_printable_piece(rt::StringView piece)
{
    if (piece.length() != 1)
        return true;
    u8 c = u8(piece[0]);
    bool printable = c >= 0x20 && c < 0x7F;
    bool whitespace = c == ' ' || (c >= '\t' && c <= '\r');
    // Bytes >= 0x80 are parts of UTF-8 sequences; llama2.c's isprint() drops them too.
    return printable || whitespace;
}

}
