#include "gguf.h"
#include "piece_index.h"

namespace llm::gguf {

namespace {

constexpr u32 magic = 0x46554747; // "GGUF"
constexpr u64 default_alignment = 32;
constexpr u64 max_string = 1 << 24;  // 16 MiB: far above any real key or token
constexpr u64 max_dimensions = 4;

// A bounds-checked reader over the file; every read names what it was reading on failure.
class Cursor {
public:
    Cursor(rt::Bytes bytes) : m_bytes(bytes) {}
    size_t offset() const { return m_offset; }
    const u8* here() const { return m_bytes.data() + m_offset; }

    rt::ErrorOr<const u8*> take(u64 count, const char* what)
    {
        if (count > m_bytes.size() - m_offset)
            return rt::Error::format("gguf: truncated at byte {} while reading {} ({} bytes needed, {} left)", m_offset, what, count,
                m_bytes.size() - m_offset);
        const u8* at = here();
        m_offset += size_t(count);
        return at;
    }
    template<typename T>
    rt::ErrorOr<T> read(const char* what)
    {
        const u8* at = TRY(take(sizeof(T), what));
        T value;
        __builtin_memcpy(&value, at, sizeof(T));
        return value;
    }
    rt::ErrorOr<rt::StringView> string(const char* what)
    {
        u64 length = TRY(read<u64>(what));
        if (length > max_string)
            return rt::Error::format("gguf: {} at byte {} claims {} bytes", what, m_offset - 8, length);
        const u8* at = TRY(take(length, what));
        return rt::StringView(reinterpret_cast<const char*>(at), size_t(length));
    }

private:
    rt::Bytes m_bytes;
    size_t m_offset { 0 };
};

u64 scalar_size(ValueType type)
{
    switch (type) {
    case ValueType::UInt8: case ValueType::Int8: case ValueType::Bool: return 1;
    case ValueType::UInt16: case ValueType::Int16: return 2;
    case ValueType::UInt32: case ValueType::Int32: case ValueType::Float32: return 4;
    case ValueType::UInt64: case ValueType::Int64: case ValueType::Float64: return 8;
    default: return 0;
    }
}

rt::ErrorOr<void> skip_value(Cursor& cursor, ValueType type, rt::StringView key, int depth);

rt::ErrorOr<void> skip_array(Cursor& cursor, Value& value, rt::StringView key, int depth)
{
    u32 element = TRY(cursor.read<u32>("array element type"));
    u64 count = TRY(cursor.read<u64>("array length"));
    value.element_type = ValueType(element);
    value.count = count;
    value.data = cursor.here();
    if (u64 size = scalar_size(ValueType(element))) {
        if (count > (u64(-1) / size))
            return rt::Error::format("gguf: array {} has an absurd length {}", key, count);
        TRY(cursor.take(count * size, "array"));
        return {};
    }
    if (element == u32(ValueType::Array) && depth > 2)
        return rt::Error::format("gguf: arrays nested too deeply in {}", key);
    // Variable-sized elements: each takes at least 8 bytes, which bounds the loop.
    for (u64 i = 0; i < count; ++i)
        TRY(skip_value(cursor, ValueType(element), key, depth + 1));
    return {};
}

rt::ErrorOr<void> skip_value(Cursor& cursor, ValueType type, rt::StringView key, int depth)
{
    if (u64 size = scalar_size(type)) {
        TRY(cursor.take(size, "value"));
        return {};
    }
    if (type == ValueType::String) {
        TRY(cursor.string("string value"));
        return {};
    }
    if (type == ValueType::Array) {
        Value nested {};
        return skip_array(cursor, nested, key, depth);
    }
    return rt::Error::format("gguf: metadata {} has unknown value type {}", key, u32(type));
}

// The first name that appears twice, if any: in linear time, since the counts come from
// the file. A reader that takes the first (or last) of two would silently ignore the other.
template<typename Item>
rt::ErrorOr<bool> find_duplicate(rt::Span<const Item> items, rt::StringView Item::*name, rt::StringView& duplicate)
{
    auto names = TRY(rt::HeapArray<rt::StringView>::allocate(items.size() ? items.size() : 1));
    for (size_t i = 0; i < items.size(); ++i)
        names[i] = items[i].*name;
    auto index = TRY(PieceIndex::build({ names.data(), items.size() }));
    for (size_t i = 0; i < items.size(); ++i)
        if (index.find(names[i]) != i32(i)) {
            duplicate = names[i];
            return true;
        }
    return false;
}

// The product of a tensor's dimensions, or false when it does not fit 64 bits.
bool checked_element_count(TensorInfo const& t, u64& count)
{
    count = 1;
    for (u32 i = 0; i < t.dimension_count; ++i)
        if (__builtin_mul_overflow(count, t.dimensions[i], &count))
            return false;
    return true;
}

}

const char* tensor_type_name(u32 type)
{
    switch (type) {
    case 0: return "F32";
    case 1: return "F16";
    case 2: return "Q4_0";
    case 3: return "Q4_1";
    case 6: return "Q5_0";
    case 7: return "Q5_1";
    case 8: return "Q8_0";
    case 10: return "Q2_K";
    case 11: return "Q3_K";
    case 12: return "Q4_K";
    case 13: return "Q5_K";
    case 14: return "Q6_K";
    case 15: return "Q8_K";
    case 16: return "IQ2_XXS";
    case 17: return "IQ2_XS";
    case 18: return "IQ3_XXS";
    case 19: return "IQ1_S";
    case 20: return "IQ4_NL";
    case 21: return "IQ3_S";
    case 22: return "IQ2_S";
    case 23: return "IQ4_XS";
    case 24: return "I8";
    case 25: return "I16";
    case 26: return "I32";
    case 27: return "I64";
    case 28: return "F64";
    case 29: return "IQ1_M";
    case 30: return "BF16";
    case 34: return "TQ1_0";
    case 35: return "TQ2_0";
    case 39: return "MXFP4";
    default: return "unknown";
    }
}

bool tensor_type_of(TensorType ggml, llm::TensorType& type)
{
    // Types no file holds carry -1, which a file's 0xFFFFFFFF must not match (it made a
    // llama2.c int8 tensor without a scale group, found by fuzzing).
    for (size_t i = 0; i < llm::tensor_type_count; ++i)
        if (llm::tensor_types[i].ggml_type >= 0 && u32(llm::tensor_types[i].ggml_type) == u32(ggml)) {
            type = llm::TensorType(i);
            return true;
        }
    return false;
}

bool block_layout(u32 type, u64& block_elements, u64& block_bytes)
{
    llm::TensorType known;
    if (!tensor_type_of(TensorType(type), known))
        return false;
    block_elements = llm::block_values(known);
    block_bytes = llm::block_bytes(known);
    return true;
}

u64 TensorInfo::element_count() const
{
    u64 count = 1;
    for (u32 i = 0; i < dimension_count; ++i)
        count *= dimensions[i];
    return count;
}

bool StringArrayCursor::next(rt::StringView& out)
{
    if (m_left == 0)
        return false;
    u64 length;
    __builtin_memcpy(&length, m_at, 8);
    out = { reinterpret_cast<const char*>(m_at + 8), size_t(length) };
    m_at += 8 + length;
    --m_left;
    return true;
}

rt::ErrorOr<File> File::parse(rt::Bytes bytes)
{
    Cursor cursor(bytes);
    u32 file_magic = TRY(cursor.read<u32>("magic"));
    if (file_magic != magic)
        return rt::Error::format("gguf: bad magic {:#010x} (not a GGUF file)", file_magic);
    File file;
    file.m_version = TRY(cursor.read<u32>("version"));
    if (file.m_version != 2 && file.m_version != 3)
        return rt::Error::format("gguf: version {} is not supported (2 and 3 are)", file.m_version);
    u64 tensor_count = TRY(cursor.read<u64>("tensor count"));
    u64 metadata_count = TRY(cursor.read<u64>("metadata count"));
    // Each metadata entry and tensor info takes well over 8 bytes: counts beyond that
    // cannot be real, and must not size an allocation.
    if (metadata_count > bytes.size() / 12 || tensor_count > bytes.size() / 24)
        return rt::Error::format("gguf: absurd counts ({} metadata entries, {} tensors) for a {}-byte file", metadata_count, tensor_count, bytes.size());

    file.m_metadata = TRY(rt::HeapArray<KeyValue>::allocate(size_t(metadata_count ? metadata_count : 1)));
    file.m_metadata_count = size_t(metadata_count);
    u64 alignment = default_alignment;
    for (u64 i = 0; i < metadata_count; ++i) {
        KeyValue& kv = file.m_metadata[size_t(i)];
        kv.key = TRY(cursor.string("metadata key"));
        u32 type = TRY(cursor.read<u32>("metadata value type"));
        kv.value = { ValueType(type), cursor.here(), ValueType::UInt8, 0 };
        if (ValueType(type) == ValueType::Array)
            TRY(skip_array(cursor, kv.value, kv.key, 0));
        else
            TRY(skip_value(cursor, ValueType(type), kv.key, 0));
        if (kv.key == "general.alignment") {
            if (ValueType(type) != ValueType::UInt32)
                return rt::Error::format("gguf: general.alignment must be a uint32");
            u32 value;
            __builtin_memcpy(&value, kv.value.data, 4);
            if (value == 0 || (value & (value - 1)) || value > 65536)
                return rt::Error::format("gguf: general.alignment {} is not a power of two up to 64 KiB", value);
            alignment = value;
        }
    }
    rt::StringView duplicate;
    if (TRY(find_duplicate(file.metadata(), &KeyValue::key, duplicate)))
        return rt::Error::format("gguf: metadata key {} appears twice", duplicate);
    file.m_tensors = TRY(rt::HeapArray<TensorInfo>::allocate(size_t(tensor_count ? tensor_count : 1)));
    file.m_tensor_count = size_t(tensor_count);
    for (u64 i = 0; i < tensor_count; ++i) {
        TensorInfo& t = file.m_tensors[size_t(i)];
        t.name = TRY(cursor.string("tensor name"));
        t.dimension_count = TRY(cursor.read<u32>("tensor dimension count"));
        if (t.dimension_count == 0 || t.dimension_count > max_dimensions)
            return rt::Error::format("gguf: tensor {} has {} dimensions", t.name, t.dimension_count);
        for (u32 d = 0; d < 4; ++d)
            t.dimensions[d] = 1;
        for (u32 d = 0; d < t.dimension_count; ++d) {
            t.dimensions[d] = TRY(cursor.read<u64>("tensor dimension"));
            if (t.dimensions[d] == 0 || t.dimensions[d] > (u64(1) << 32))
                return rt::Error::format("gguf: tensor {} has dimension {} = {}", t.name, d, t.dimensions[d]);
        }
        u32 type = TRY(cursor.read<u32>("tensor type"));
        t.type = TensorType(type);
        t.offset = TRY(cursor.read<u64>("tensor offset"));
        u64 block_elements, block_bytes;
        if (!block_layout(type, block_elements, block_bytes))
            return rt::Error::format("gguf: tensor {} has type {} ({}), which BareFlow cannot read", t.name, type, tensor_type_name(type));
        u64 elements;
        if (!checked_element_count(t, elements))
            return rt::Error::format("gguf: tensor {} has dimensions whose product overflows 64 bits", t.name);
        if (elements > (u64(1) << 40) || t.dimensions[0] % block_elements)
            return rt::Error::format("gguf: tensor {} ({} elements, rows of {}) does not fit {} blocks of {}", t.name, elements,
                t.dimensions[0], tensor_type_name(type), block_elements);
        t.bytes = elements / block_elements * block_bytes;
        if (t.offset % alignment)
            return rt::Error::format("gguf: tensor {} offset {} is not a multiple of the alignment {}", t.name, t.offset, alignment);
    }
    if (TRY(find_duplicate(file.tensors(), &TensorInfo::name, duplicate)))
        return rt::Error::format("gguf: tensor name {} appears twice", duplicate);
    u64 data_start = (u64(cursor.offset()) + alignment - 1) / alignment * alignment;
    for (u64 i = 0; i < tensor_count; ++i) {
        TensorInfo& t = file.m_tensors[size_t(i)];
        if (data_start > bytes.size() || t.offset > bytes.size() - data_start || t.bytes > bytes.size() - data_start - t.offset)
            return rt::Error::format("gguf: tensor {} ({} bytes at offset {}) lies outside the {}-byte file", t.name, t.bytes, t.offset, bytes.size());
        t.data = bytes.data() + data_start + t.offset;
        // No two tensors may share bytes.
        for (u64 j = 0; j < i; ++j) {
            TensorInfo const& other = file.m_tensors[size_t(j)];
            if (t.offset < other.offset + other.bytes && other.offset < t.offset + t.bytes)
                return rt::Error::format("gguf: tensors {} and {} overlap", other.name, t.name);
        }
    }
    return file;
}

KeyValue const* File::find(rt::StringView key) const
{
    for (auto const& kv : metadata())
        if (kv.key == key)
            return &kv;
    return nullptr;
}

TensorInfo const* File::tensor(rt::StringView name) const
{
    for (auto const& t : tensors())
        if (t.name == name)
            return &t;
    return nullptr;
}

rt::ErrorOr<u64> File::get_integer(rt::StringView key) const
{
    auto const* kv = find(key);
    if (!kv)
        return rt::Error::format("gguf: metadata {} is missing", key);
    u64 value = 0;
    switch (kv->value.type) {
    case ValueType::UInt8: case ValueType::Bool: value = kv->value.data[0]; break;
    case ValueType::UInt16: { u16 v; __builtin_memcpy(&v, kv->value.data, 2); value = v; break; }
    case ValueType::UInt32: { u32 v; __builtin_memcpy(&v, kv->value.data, 4); value = v; break; }
    case ValueType::UInt64: __builtin_memcpy(&value, kv->value.data, 8); break;
    case ValueType::Int32: {
        i32 v;
        __builtin_memcpy(&v, kv->value.data, 4);
        if (v < 0)
            return rt::Error::format("gguf: metadata {} is negative ({})", key, v);
        value = u64(v);
        break;
    }
    default: return rt::Error::format("gguf: metadata {} is not an unsigned integer", key);
    }
    return value;
}

rt::ErrorOr<double> File::get_float(rt::StringView key) const
{
    auto const* kv = find(key);
    if (!kv)
        return rt::Error::format("gguf: metadata {} is missing", key);
    if (kv->value.type == ValueType::Float32) {
        float v;
        __builtin_memcpy(&v, kv->value.data, 4);
        return double(v);
    }
    if (kv->value.type == ValueType::Float64) {
        double v;
        __builtin_memcpy(&v, kv->value.data, 8);
        return v;
    }
    return rt::Error::format("gguf: metadata {} is not a float", key);
}

rt::ErrorOr<rt::StringView> File::get_string(rt::StringView key) const
{
    auto const* kv = find(key);
    if (!kv)
        return rt::Error::format("gguf: metadata {} is missing", key);
    if (kv->value.type != ValueType::String)
        return rt::Error::format("gguf: metadata {} is not a string", key);
    u64 length;
    __builtin_memcpy(&length, kv->value.data, 8);
    return rt::StringView(reinterpret_cast<const char*>(kv->value.data + 8), size_t(length));
}

rt::ErrorOr<Value> File::get_array(rt::StringView key, ValueType element_type) const
{
    auto const* kv = find(key);
    if (!kv)
        return rt::Error::format("gguf: metadata {} is missing", key);
    if (kv->value.type != ValueType::Array || kv->value.element_type != element_type)
        return rt::Error::format("gguf: metadata {} is not an array of type {}", key, u32(element_type));
    return kv->value;
}

}
