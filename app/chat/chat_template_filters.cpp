// The chat template's filters (| name), string methods (.name()) and tests (is name), with
// Jinja's and Python's meanings: str.title() is not the title filter, split() without a
// separator splits on runs of whitespace, and so on. Letters are ASCII's: other characters
// keep their case.
#include "chat_template_renderer.h"

namespace app::chat_template_detail {

namespace {

bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_letter(char c) { return is_upper(c) || is_lower(c); }
char to_upper(char c) { return is_lower(c) ? char(c - 32) : c; }
char to_lower(char c) { return is_upper(c) ? char(c + 32) : c; }
bool is_number(Value const& v) { return v.kind == Value::Kind::Integer || v.kind == Value::Kind::Boolean; }
i64 number_of(Value const& v) { return v.kind == Value::Kind::Integer ? v.integer : i64(v.boolean); }

// Python's str.split() whitespace (ASCII's).
bool is_python_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// Where Jinja's title filter starts a word: after '-', whitespace, '(', '{', '[' or '<'.
bool begins_title_word_after(char c) { return c == '-' || is_python_space(c) || c == '(' || c == '{' || c == '[' || c == '<'; }

Argument const* named(Argument const* arguments, size_t count, rt::StringView name)
{
    for (size_t i = 0; i < count; ++i)
        if (arguments[i].name == name)
            return &arguments[i];
    return nullptr;
}

}

rt::StringView Renderer::trim(rt::StringView s, bool left, bool right)
{
    while (left && !s.is_empty() && is_space(s[0]))
        s = s.substring(1);
    while (right && !s.is_empty() && is_space(s[s.length() - 1]))
        s = s.substring(0, s.length() - 1);
    return s;
}

rt::ErrorOr<Value> Renderer::change_case(rt::StringView s, bool upper)
{
    rt::StringView copy = TRY(store(s));
    char* p = const_cast<char*>(copy.begin());
    for (size_t i = 0; i < copy.length(); ++i)
        p[i] = upper ? to_upper(p[i]) : to_lower(p[i]);
    return Value::of_string(copy);
}

// str.title() (python_method: a letter after a non-letter is upper case, others lower) or
// Jinja's title filter (each word split at begins_title_word_after: first character upper,
// the rest lower).
rt::ErrorOr<Value> Renderer::title_case(rt::StringView s, bool python_method)
{
    rt::StringView copy = TRY(store(s));
    char* p = const_cast<char*>(copy.begin());
    for (size_t i = 0; i < copy.length(); ++i) {
        bool starts = python_method ? (i == 0 || !(is_letter(p[i - 1]) || u8(p[i - 1]) >= 0x80)) : (i == 0 || begins_title_word_after(s[i - 1]));
        p[i] = starts ? to_upper(p[i]) : to_lower(p[i]);
    }
    return Value::of_string(copy);
}

rt::ErrorOr<Value> Renderer::replace(rt::StringView s, rt::StringView old, rt::StringView with)
{
    size_t start = m_arena_used;
    auto append = [&](rt::StringView part) -> rt::ErrorOr<void> {
        TRY(store(part)); // contiguous: each store follows the one before
        return {};
    };
    if (old.is_empty()) { // Python puts `with` between every character and at both ends
        TRY(append(with));
        for (size_t i = 0; i < s.length();) {
            size_t end = i + 1;
            while (end < s.length() && (u8(s[end]) & 0xC0) == 0x80)
                ++end;
            TRY(append(s.substring(i, end - i)));
            TRY(append(with));
            i = end;
        }
    } else {
        TRY(charge(s.length() * old.length()));
        size_t from = 0;
        for (size_t i = 0; i + old.length() <= s.length();) {
            if (s.substring(i, old.length()) == old) {
                TRY(append(s.substring(from, i - from)));
                TRY(append(with));
                i += old.length();
                from = i;
            } else {
                ++i;
            }
        }
        TRY(append(s.substring(from)));
    }
    return Value::of_string({ m_arena.data() + start, m_arena_used - start });
}

// str.split(): on runs of whitespace without a separator (no empty pieces), else on each
// separator.
rt::ErrorOr<Value> Renderer::split(rt::StringView s, Value const* separator)
{
    if (separator && separator->kind != Value::Kind::String && separator->kind != Value::Kind::None)
        return refuse("split() takes a string to split on");
    rt::StringView sep = separator && separator->kind == Value::Kind::String ? separator->string : rt::StringView();
    bool whitespace = !separator || separator->kind == Value::Kind::None;
    if (!whitespace && sep.is_empty())
        return refuse("split() with an empty separator");
    TRY(charge(s.length() * rt::max<size_t>(sep.length(), 1)));
    size_t first = m_item_count, pieces = 0;
    auto add = [&](rt::StringView piece) -> rt::ErrorOr<void> {
        Value one = TRY(new_list(1));
        list_item(one, 0) = Value::of_string(piece);
        ++pieces;
        return {};
    };
    if (whitespace) {
        for (size_t i = 0; i < s.length();) {
            while (i < s.length() && is_python_space(s[i]))
                ++i;
            size_t start = i;
            while (i < s.length() && !is_python_space(s[i]))
                ++i;
            if (i > start)
                TRY(add(s.substring(start, i - start)));
        }
    } else {
        size_t from = 0;
        for (size_t i = 0; i + sep.length() <= s.length();) {
            if (s.substring(i, sep.length()) == sep) {
                TRY(add(s.substring(from, i - from)));
                i += sep.length();
                from = i;
            } else {
                ++i;
            }
        }
        TRY(add(s.substring(from)));
    }
    return Value { Value::Kind::List, false, 0, {}, first, pieces };
}

rt::ErrorOr<Value> Renderer::join(Value const& list, rt::StringView separator)
{
    // Each item's text first (a list's or message's repr is stored as it is made), then the
    // texts and separators one after the other.
    Value texts = TRY(new_list(list.count));
    for (size_t i = 0; i < list.count; ++i) {
        char digits[24];
        rt::StringView text = TRY(text_of(item(list, i), digits));
        list_item(texts, i) = Value::of_string(item(list, i).kind == Value::Kind::Integer ? TRY(store(text)) : text);
    }
    size_t start = m_arena_used;
    for (size_t i = 0; i < list.count; ++i) {
        if (i > 0)
            TRY(store(separator));
        TRY(store(list_item(texts, i).string));
    }
    return Value::of_string({ m_arena.data() + start, m_arena_used - start });
}

// Python's repr() of a string: single quotes unless it holds one and no double quote,
// backslash escapes for the quote, backslash and control characters; other characters as
// they are, but the Latin-1 controls and no-break space (\xNN) and the few invisible
// general punctuation ones (\uNNNN) that Python does not count as printable.
rt::ErrorOr<void> Renderer::write_repr_string(rt::StringView s)
{
    char quote = s.find('\'') < s.length() && s.find('"') == s.length() ? '"' : '\'';
    TRY(store({ &quote, 1 }));
    const char* hex = "0123456789abcdef";
    for (size_t i = 0; i < s.length();) {
        u8 c = u8(s[i]);
        char escaped[6] = { '\\', 0, 0, 0, 0, 0 };
        size_t length = 2, consumed = 1;
        u32 code = c;
        if (c >= 0xC0 && i + 1 < s.length()) { // the code point of a two- or three-byte character
            consumed = c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
            if (c >= 0xF0)
                consumed = 4;
            if (consumed == 2)
                code = (u32(c & 0x1F) << 6) | (u8(s[i + 1]) & 0x3F);
            else if (consumed == 3 && i + 2 < s.length())
                code = (u32(c & 0x0F) << 12) | (u32(u8(s[i + 1]) & 0x3F) << 6) | (u8(s[i + 2]) & 0x3F);
        }
        if (c == '\\' || char(c) == quote) {
            escaped[1] = char(c);
        } else if (c == '\n' || c == '\r' || c == '\t') {
            escaped[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
        } else if (c < 0x20 || c == 0x7F || (code >= 0x80 && code <= 0xA0) || code == 0xAD) {
            escaped[1] = 'x', escaped[2] = hex[(code >> 4) & 15], escaped[3] = hex[code & 15];
            length = 4;
        } else if ((code >= 0x200B && code <= 0x200F) || (code >= 0x2028 && code <= 0x202E) || (code >= 0x2060 && code <= 0x2064)
            || code == 0xFEFF) {
            escaped[1] = 'u', escaped[2] = hex[code >> 12], escaped[3] = hex[(code >> 8) & 15], escaped[4] = hex[(code >> 4) & 15],
            escaped[5] = hex[code & 15];
            length = 6;
        } else {
            consumed = rt::min(consumed, s.length() - i);
            TRY(store(s.substring(i, consumed)));
            i += consumed;
            continue;
        }
        TRY(store({ escaped, length }));
        i += consumed;
    }
    TRY(store({ &quote, 1 }));
    return {};
}

rt::ErrorOr<void> Renderer::write_repr(Value const& v, u32 depth)
{
    DepthGuard guard = nesting();
    if (guard.too_deep() || depth > max_depth)
        return too_deep_error();
    char digits[24];
    switch (v.kind) {
    case Value::Kind::String: return write_repr_string(v.string);
    case Value::Kind::Message: {
        ChatMessage const& m = m_inputs.messages[v.start];
        TRY(store("{'role': "));
        TRY(write_repr_string(m.role));
        TRY(store(", 'content': "));
        TRY(write_repr_string(m.content));
        TRY(store("}"));
        return {};
    }
    case Value::Kind::List:
    case Value::Kind::Messages:
        if (v.is_generator())
            return error("a generator cannot be printed");
        TRY(store("["));
        for (size_t i = 0; i < v.count; ++i) {
            if (i > 0)
                TRY(store(", "));
            TRY(write_repr(item(v, i), depth + 1));
        }
        TRY(store("]"));
        return {};
    case Value::Kind::Integer:
    case Value::Kind::Boolean:
    case Value::Kind::None: TRY(store(TRY(text_of(v, digits)))); return {};
    default: return error("a namespace, loop or undefined value cannot be printed in a list");
    }
}

rt::ErrorOr<Value> Renderer::repeat(rt::StringView s, i64 times)
{
    if (times <= 0 || s.is_empty())
        return Value::of_string({});
    if (u64(times) > m_arena.size() / s.length())
        return refuse("a string repeated {} times is too long", times);
    size_t start = m_arena_used;
    for (i64 i = 0; i < times; ++i)
        TRY(store(s));
    return Value::of_string({ m_arena.data() + start, m_arena_used - start });
}

// selectattr / rejectattr(attribute [, test [, argument]]): the items whose attribute passes
// the test (is true without one), or fails it.
rt::ErrorOr<Value> Renderer::select_by_attribute(Value const& list, Argument const* arguments, size_t count, bool keep)
{
    if (count < 1 || arguments[0].value.kind != Value::Kind::String)
        return refuse("selectattr and rejectattr take an attribute name");
    Value kept = TRY(new_list(list.count));
    size_t n = 0;
    for (size_t i = 0; i < list.count; ++i) {
        Value v = attribute_of_defined(item(list, i), arguments[0].value.string);
        bool passed = v.truthy();
        if (count >= 2) {
            if (arguments[1].value.kind != Value::Kind::String)
                return refuse("selectattr's test is named by a string");
            passed = TRY(passes(v, arguments[1].value.string, count >= 3 ? &arguments[2].value : nullptr));
        }
        if (passed == keep)
            list_item(kept, n++) = item(list, i);
    }
    kept.count = n;
    kept.boolean = true; // a generator
    return kept;
}

// map(attribute='key') or map('filter'): the attribute, or the filter's result, of each item.
rt::ErrorOr<Value> Renderer::attribute_of_each(Value const& list, Argument const* arguments, size_t count)
{
    Argument const* attribute_name = named(arguments, count, "attribute");
    bool by_filter = !attribute_name && count >= 1 && arguments[0].name.is_empty() && arguments[0].value.kind == Value::Kind::String;
    if (!(attribute_name && attribute_name->value.kind == Value::Kind::String) && !by_filter)
        return refuse("map takes attribute='name' or a filter's name");
    Argument const* fallback = named(arguments, count, "default");
    Value mapped = TRY(new_list(list.count));
    for (size_t i = 0; i < list.count; ++i) {
        Value v = item(list, i);
        if (by_filter)
            v = TRY(apply(v, arguments[0].value.string, arguments + 1, count - 1, true));
        else
            v = attribute_of_defined(v, attribute_name->value.string);
        if (fallback && v.kind == Value::Kind::Undefined)
            v = fallback->value;
        list_item(mapped, i) = v;
    }
    mapped.boolean = true; // a generator
    return mapped;
}

// Python's json.dumps(value, ensure_ascii=False), as Hugging Face's tojson filter calls it.
rt::ErrorOr<Value> Renderer::to_json(Value const& v)
{
    size_t start = m_arena_used;
    auto written = write_json(v, 0);
    if (written.is_error())
        return m_quiet ? rt::ErrorOr<Value>(Value {}) : rt::ErrorOr<Value>(written.release_error());
    return Value::of_string({ m_arena.data() + start, m_arena_used - start });
}

rt::ErrorOr<void> Renderer::write_json_string(rt::StringView s)
{
    TRY(store("\""));
    for (char c : s) {
        char escaped[6] = { '\\', 0, 0, 0, 0, 0 };
        size_t length = 2;
        switch (c) {
        case '"': escaped[1] = '"'; break;
        case '\\': escaped[1] = '\\'; break;
        case '\n': escaped[1] = 'n'; break;
        case '\r': escaped[1] = 'r'; break;
        case '\t': escaped[1] = 't'; break;
        case '\b': escaped[1] = 'b'; break;
        case '\f': escaped[1] = 'f'; break;
        default:
            if (u8(c) >= 0x20) {
                escaped[0] = c;
                length = 1;
            } else { // \u00XX
                const char* hex = "0123456789abcdef";
                escaped[1] = 'u', escaped[2] = '0', escaped[3] = '0', escaped[4] = hex[u8(c) >> 4], escaped[5] = hex[u8(c) & 15];
                length = 6;
            }
        }
        TRY(store({ escaped, length }));
    }
    TRY(store("\""));
    return {};
}

rt::ErrorOr<void> Renderer::write_json(Value const& v, u32 depth)
{
    DepthGuard guard = nesting();
    if (guard.too_deep() || depth > max_depth)
        return too_deep_error();
    switch (v.kind) {
    case Value::Kind::String: return write_json_string(v.string);
    case Value::Kind::Integer: {
        char digits[24];
        TRY(store(TRY(text_of(v, digits))));
        return {};
    }
    case Value::Kind::Boolean:
    case Value::Kind::None: TRY(store(v.kind == Value::Kind::None ? "null" : v.boolean ? "true" : "false")); return {};
    case Value::Kind::Message: {
        ChatMessage const& m = m_inputs.messages[v.start];
        TRY(store("{\"role\": "));
        TRY(write_json_string(m.role));
        TRY(store(", \"content\": "));
        TRY(write_json_string(m.content));
        TRY(store("}"));
        return {};
    }
    case Value::Kind::List:
    case Value::Kind::Messages:
        TRY(store("["));
        for (size_t i = 0; i < v.count; ++i) {
            if (i > 0)
                TRY(store(", "));
            TRY(write_json(item(v, i), depth + 1));
        }
        TRY(store("]"));
        return {};
    default: return error("tojson cannot write this value");
    }
}

// Python's datetime.strftime in the C locale (glibc's): %a %A %b %B %d %e %H %I %j %m %M
// %p %S %y %Y %%, and glibc's '-' flag (no padding) on the numbers.
rt::ErrorOr<Value> Renderer::format_date(rt::DateTime const& date, rt::StringView format)
{
    static constexpr const char* days[] = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday" };
    static constexpr const char* months[] = { "January", "February", "March", "April", "May", "June", "July", "August", "September",
        "October", "November", "December" };
    size_t start = m_arena_used;
    auto number = [&](i64 value, i32 width, char pad) -> rt::ErrorOr<void> {
        char digits[24];
        rt::BufferSink sink(digits, sizeof digits);
        rt::format_to(sink, "{}", value);
        for (i32 i = i32(sink.view().length()); i < width && pad; ++i)
            TRY(store({ &pad, 1 }));
        TRY(store(sink.view()));
        return {};
    };
    for (size_t i = 0; i < format.length(); ++i) {
        if (format[i] != '%' || i + 1 == format.length()) {
            TRY(store(format.substring(i, 1)));
            continue;
        }
        char c = format[++i];
        bool unpadded = c == '-' && i + 1 < format.length();
        if (unpadded)
            c = format[++i];
        char zero = unpadded ? 0 : '0';
        rt::StringView day_name = days[date.weekday()], month_name = months[date.month - 1];
        switch (c) {
        case 'a': TRY(store(day_name.substring(0, 3))); break;
        case 'A': TRY(store(day_name)); break;
        case 'b': TRY(store(month_name.substring(0, 3))); break;
        case 'B': TRY(store(month_name)); break;
        case 'd': TRY(number(date.day, 2, zero)); break;
        case 'e': TRY(number(date.day, 2, unpadded ? 0 : ' ')); break;
        case 'H': TRY(number(date.hour, 2, zero)); break;
        case 'I': TRY(number(date.hour % 12 ? date.hour % 12 : 12, 2, zero)); break;
        case 'j': TRY(number(date.day_of_year(), 3, zero)); break;
        case 'm': TRY(number(date.month, 2, zero)); break;
        case 'M': TRY(number(date.minute, 2, zero)); break;
        case 'p': TRY(store(date.hour < 12 ? "AM" : "PM")); break;
        case 'S': TRY(number(date.second, 2, zero)); break;
        case 'y': TRY(number(date.year % 100, 2, zero)); break;
        case 'Y': TRY(number(date.year, 0, 0)); break;
        case '%': TRY(store("%")); break;
        default: return refuse("strftime_now does not know %{}", format.substring(i, 1));
        }
    }
    return Value::of_string({ m_arena.data() + start, m_arena_used - start });
}

// Jinja's tests, by name.
rt::ErrorOr<bool> Renderer::passes(Value const& v, rt::StringView test, Value const* argument)
{
    using Kind = Value::Kind;
    if (test == "defined")
        return v.kind != Kind::Undefined;
    if (test == "undefined")
        return v.kind == Kind::Undefined;
    if (test == "none")
        return v.kind == Kind::None;
    if (test == "string")
        return v.kind == Kind::String;
    if (test == "number") // Python's bool is a number...
        return v.kind == Kind::Integer || v.kind == Kind::Boolean;
    if (test == "integer") // ...but Jinja's integer test leaves it out
        return v.kind == Kind::Integer;
    if (test == "boolean")
        return v.kind == Kind::Boolean;
    if (test == "true" || test == "false")
        return v.kind == Kind::Boolean && v.boolean == (test == "true");
    if (test == "mapping")
        return v.kind == Kind::Message;
    if (test == "iterable" || test == "sequence") // Jinja's undefined is both (empty)
        return v.is_list() || v.kind == Kind::String || v.kind == Kind::Message || v.kind == Kind::Undefined;
    if (test == "odd" || test == "even" || test == "divisibleby") {
        i64 divisor = test == "divisibleby" ? (argument && is_number(*argument) ? number_of(*argument) : 0) : 2;
        if (!is_number(v) || divisor == 0) {
            TRY(refuse("'is {}' needs numbers", test));
            return false;
        }
        i64 remainder = divisor == -1 ? 0 : number_of(v) % divisor;
        return test == "odd" ? remainder != 0 : remainder == 0;
    }
    if (test == "equalto" || test == "eq" || test == "==" || test == "sameas")
        return argument && equal(v, *argument);
    if (test == "ne" || test == "!=")
        return !(argument && equal(v, *argument));
    TRY(refuse("unsupported test 'is {}'", test));
    return false;
}

// A filter (| name) or a method (.name()) on a value. They share names and mostly meanings.
rt::ErrorOr<Value> Renderer::apply(Value const& v, rt::StringView name, Argument const* arguments, size_t count, bool filter)
{
    using Kind = Value::Kind;
    Value const* first = count >= 1 ? &arguments[0].value : nullptr;
    Value const* second = count >= 2 ? &arguments[1].value : nullptr;
    Value empty { Kind::List, false, 0, {}, 0, 0 };
    // Jinja's undefined iterates as empty, and select, reject and map pass over any false value (None too).
    if (filter && v.kind == Kind::Undefined && (name == "join" || name == "list" || name == "reverse"))
        return apply(empty, name, arguments, count, filter);
    if (filter && !v.truthy() && !v.is_list() && (name == "selectattr" || name == "rejectattr" || name == "map"))
        return apply(empty, name, arguments, count, filter);
    if (filter) {
        if (v.is_generator() && (name == "length" || name == "count" || name == "last" || name == "tojson"))
            return refuse("'{}' cannot read a generator (select, reject, map and reverse give one: add | list)", name);
        if (name == "length" || name == "count") {
            if (v.kind == Kind::Message)
                return Value::of_integer(2);
            if (!v.is_list() && v.kind != Kind::String && v.kind != Kind::Undefined)
                return refuse("'{}' needs a list or a string", name);
            return Value::of_integer(i64(length_of(v)));
        }
        if (name == "string")
            return Value::of_string(TRY(to_text(v)));
        if (name == "default" || name == "d") {
            bool boolean = count >= 2 && arguments[1].value.truthy();
            bool replace = v.kind == Kind::Undefined || (boolean && !v.truthy());
            return replace ? (first ? *first : Value::of_string({})) : v;
        }
        if (name == "tojson")
            return to_json(v);
        if (name == "list") {
            if (v.is_list()) {
                Value list = v;
                list.boolean = false;
                return list;
            }
            if (v.kind != Kind::String)
                return refuse("'list' needs a list or a string");
            Value chars = TRY(new_list(v.string.length()));
            size_t n = 0;
            for (size_t i = 0; i < v.string.length(); ++n) { // one item per UTF-8 character
                size_t end = i + 1;
                while (end < v.string.length() && (u8(v.string[end]) & 0xC0) == 0x80)
                    ++end;
                list_item(chars, n) = Value::of_string(v.string.substring(i, end - i));
                i = end;
            }
            chars.count = n;
            return chars;
        }
        if (name == "first" || name == "last") {
            if (v.is_list())
                return v.count ? item(v, name == "first" ? 0 : v.count - 1) : Value {};
            if (v.kind == Kind::String && !v.string.is_empty())
                return Value::of_string(character_at(v.string, name == "first" ? 0 : characters(v.string) - 1));
            return v.kind == Kind::String || v.kind == Kind::Undefined ? Value {} : refuse("'{}' needs a list or a string", name);
        }
        if (name == "reverse" && v.is_list()) { // Python's reversed() of a list; a generator's items in a list
            Value reversed = TRY(new_list(v.count));
            for (size_t i = 0; i < v.count; ++i)
                list_item(reversed, i) = item(v, v.count - 1 - i);
            reversed.boolean = !v.is_generator();
            return reversed;
        }
        if (name == "reverse" && v.kind == Kind::String) { // by characters, not bytes
            rt::StringView copy = TRY(store(v.string));
            char* out = const_cast<char*>(copy.begin());
            size_t at = copy.length();
            for (size_t i = 0; i < v.string.length();) {
                size_t end = i + 1;
                while (end < v.string.length() && (u8(v.string[end]) & 0xC0) == 0x80)
                    ++end;
                at -= end - i;
                for (size_t j = i; j < end; ++j)
                    out[at + j - i] = v.string[j];
                i = end;
            }
            return Value::of_string(copy);
        }
        if (name == "join") {
            if (!v.is_list())
                return refuse("'join' needs a list");
            rt::StringView separator = first && first->kind == Kind::String ? first->string : rt::StringView();
            return join(v, separator);
        }
        if (name == "selectattr" || name == "rejectattr") {
            if (!v.is_list())
                return refuse("'{}' needs a list", name);
            return select_by_attribute(v, arguments, count, name == "selectattr");
        }
        if (name == "map") {
            if (!v.is_list())
                return refuse("'map' needs a list");
            return attribute_of_each(v, arguments, count);
        }
        if (name == "abs" && is_number(v))
            return number_of(v) < 0 ? arithmetic("-", 0, number_of(v)) : Value::of_integer(number_of(v));
        if (name == "title" && v.kind == Kind::String)
            return title_case(v.string, false);
    }
    if (v.kind != Kind::String) {
        if (v.kind == Kind::Undefined && filter) // filters read Jinja's undefined as ''
            return apply(Value::of_string({}), name, arguments, count, filter);
        return refuse("'{}' applies to strings", name);
    }
    rt::StringView s = v.string;
    if (name == "strip" || name == "trim" || name == "lstrip" || name == "rstrip") {
        bool left = name != "rstrip", right = name != "lstrip";
        if (!first || first->kind == Kind::None)
            return Value::of_string(trim(s, left, right));
        if (first->kind != Kind::String)
            return refuse("'{}' takes the characters to remove as a string", name);
        auto strippable = [&](char c) { return first->string.find(c) < first->string.length(); };
        while (left && !s.is_empty() && strippable(s[0]))
            s = s.substring(1);
        while (right && !s.is_empty() && strippable(s[s.length() - 1]))
            s = s.substring(0, s.length() - 1);
        return Value::of_string(s);
    }
    if (name == "lower" || name == "upper")
        return change_case(s, name == "upper");
    if (name == "title")
        return title_case(s, true);
    if (name == "capitalize") {
        Value lowered = TRY(change_case(s, false));
        if (!lowered.string.is_empty())
            const_cast<char*>(lowered.string.begin())[0] = to_upper(lowered.string[0]);
        return lowered;
    }
    if (name == "replace" && first && second && first->kind == Kind::String && second->kind == Kind::String && count == 2)
        return replace(s, first->string, second->string);
    if (name == "split" && !filter && count <= 1)
        return split(s, first);
    if ((name == "startswith" || name == "endswith") && count == 1 && first->kind == Kind::String)
        return Value::of_bool(name == "startswith" ? s.starts_with(first->string) : s.ends_with(first->string));
    if (name == "length" || name == "count" || name == "string")
        return refuse("'{}' is a filter here, not a method", name);
    return refuse("unsupported method or filter '{}'", name);
}

}
