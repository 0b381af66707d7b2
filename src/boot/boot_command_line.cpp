#include <rt/boot_command_line.h>
#include <rt/console.h>

namespace rt::boot {

ErrorOr<StringView> assemble_command_line(StringView menu, ExtraTextReader read_extra, Span<char> buffer)
{
    char* text = buffer.data();
    size_t const limit = buffer.size() - 1;
    if (menu.length() > limit)
        return Error::format("command line: the menu entry's is {} bytes; BareFlow takes at most {}", menu.length(), limit);
    __builtin_memcpy(text, menu.data(), menu.length());
    size_t used = menu.length();
    // The fw_cfg text goes after one space; a menu line that fills the buffer leaves no
    // room at all (never a negative one).
    size_t separator = used ? 1 : 0;
    size_t start = used + separator < limit ? used + separator : limit;
    size_t room = limit - start;
    i64 extra = read_extra(text + start, room);
    if (extra > i64(room))
        return Error::format("command line: {} bytes from the menu entry and {} from QEMU fw_cfg make {}; BareFlow takes at most {}",
            used, extra, used + separator + size_t(extra), limit);
    if (extra > 0) {
        println("[boot] appended from QEMU fw_cfg ({} bytes): {}", extra, StringView(text + start, size_t(extra)));
        if (used)
            text[used++] = ' ';
        used += size_t(extra);
    }
    text[used] = 0;
    return StringView(text, used);
}

}
