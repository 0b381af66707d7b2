#include <rt/utf8.h>

namespace rt {

size_t Utf8Decoder::take(u8 byte, u32 out[2])
{
    size_t count = 0;
    if (m_remaining) {
        if ((byte & 0xC0) == 0x80) {
            m_code = (m_code << 6) | (byte & 0x3F);
            if (--m_remaining == 0)
                out[count++] = m_code;
            return count;
        }
        out[count++] = replacement; // cut short: the byte begins something else
        m_remaining = 0;
    }
    if (byte < 0x80) {
        out[count++] = byte;
    } else if (byte >= 0xC2 && byte < 0xE0) {
        m_code = byte & 0x1F;
        m_remaining = 1;
    } else if (byte >= 0xE0 && byte < 0xF0) {
        m_code = byte & 0x0F;
        m_remaining = 2;
    } else if (byte >= 0xF0 && byte < 0xF5) {
        m_code = byte & 0x07;
        m_remaining = 3;
    } else {
        out[count++] = replacement; // a stray continuation byte, or a byte UTF-8 never uses
    }
    return count;
}

size_t encode_utf8(u32 code_point, char* out)
{
    if (code_point < 0x80) {
        out[0] = char(code_point);
        return 1;
    }
    if (code_point < 0x800) {
        out[0] = char(0xC0 | (code_point >> 6));
        out[1] = char(0x80 | (code_point & 0x3F));
        return 2;
    }
    if (code_point < 0x10000) {
        out[0] = char(0xE0 | (code_point >> 12));
        out[1] = char(0x80 | ((code_point >> 6) & 0x3F));
        out[2] = char(0x80 | (code_point & 0x3F));
        return 3;
    }
    out[0] = char(0xF0 | (code_point >> 18));
    out[1] = char(0x80 | ((code_point >> 12) & 0x3F));
    out[2] = char(0x80 | ((code_point >> 6) & 0x3F));
    out[3] = char(0x80 | (code_point & 0x3F));
    return 4;
}

}
