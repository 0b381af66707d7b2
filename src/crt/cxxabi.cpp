// The few C++ runtime hooks a freestanding kernel must supply itself.
#include <rt/console.h>
#include <rt/heap.h>

namespace rt {
[[noreturn]] void panic(StringView message);
}

extern "C" {

void* __dso_handle = nullptr;

// Static destructors never run: the kernel ends by powering off, not by returning.
int __cxa_atexit(void (*)(void*), void*, void*) { return 0; }

[[noreturn]] void __cxa_pure_virtual() { rt::panic("pure virtual function called"); }

}

// Plain `new` cannot report an error as a value, so running out of memory here is fatal;
// code that can run out (model buffers) uses Heap::allocate and handles the error.
void* operator new(size_t size)
{
    auto result = rt::Heap::the().allocate(size);
    if (result.is_error())
        rt::panic(result.error().message());
    return result.value();
}

void* operator new[](size_t size) { return operator new(size); }
void operator delete(void* pointer) noexcept { rt::Heap::the().free(pointer); }
void operator delete[](void* pointer) noexcept { rt::Heap::the().free(pointer); }
void operator delete(void* pointer, size_t) noexcept { rt::Heap::the().free(pointer); }
void operator delete[](void* pointer, size_t) noexcept { rt::Heap::the().free(pointer); }
