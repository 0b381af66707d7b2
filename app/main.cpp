// For now the application is a boot report: what the machine and the boot loader gave us,
// and a small profiled workload that exercises the allocator and the cycle profiler.
#include <rt/boot.h>
#include <rt/console.h>
#include <rt/crc32.h>
#include <rt/heap.h>
#include <rt/profile.h>

namespace {

void report_modules(rt::multiboot2::BootInfo const& info)
{
    if (info.module_count == 0)
        rt::println("[mod] no modules loaded");
    for (size_t i = 0; i < info.module_count; ++i) {
        auto const& module = info.modules[i];
        u32 checksum;
        {
            rt::ScopedCycles probe { "module crc32" };
            checksum = rt::crc32(module.bytes());
        }
        rt::println("[mod] {:<12} {:>10} bytes at {:#010x}  crc32 {:08x}", module.name, module.size(), module.start, checksum);
    }
}

rt::ErrorOr<void> demo_workload()
{
    constexpr size_t n = 64 * 1024;
    auto a = TRY(rt::HeapArray<float>::allocate(n));
    auto b = TRY(rt::HeapArray<float>::allocate(n));
    for (size_t i = 0; i < n; ++i) {
        a[i] = float(i % 17) * 0.25f;
        b[i] = float(i % 13) * 0.5f;
    }
    double sum = 0;
    for (int round = 0; round < 16; ++round) {
        rt::ScopedCycles probe { "dot product 64K" };
        float partial = 0;
        for (size_t i = 0; i < n; ++i)
            partial += a[i] * b[i];
        sum += partial;
    }
    rt::println("[demo] 16 dot products of 64K floats: sum {:.1f}", sum);
    return {};
}

}

rt::ErrorOr<void> app_main(rt::BootContext const& boot)
{
    TRY(boot.command_line.check_known(rt::runtime_command_line_keys));
    report_modules(boot.info);
    TRY(demo_workload());
    rt::Profiler::the().report(rt::Console::the());
    rt::Profiler::the().report_json(rt::Console::the());
    rt::println("[app] boot report complete");
    return {};
}
