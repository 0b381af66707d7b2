#pragma once
#include <rt/span.h>

namespace rt {

// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as zlib and `crc32` compute it.
u32 crc32(Bytes data, u32 crc = 0);

}
