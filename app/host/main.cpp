// The hosted build: the same application code as the kernel, run as a Linux program, for
// tests and benchmarks. The runtime's services map onto the OS: stdout is the console,
// stdin the input, an mmap'd arena the heap, clock_gettime calibrates the TSC.
//   bareflow-host MODEL.bin TOKENIZER.bin [key=value ...]   (the kernel's command-line keys)
#include "../inference_app.h"
#include "key_terminal.h"
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <rt/console.h>
#include <rt/cpu_features.h>
#include <rt/cycles.h>
#include <rt/heap.h>
#include <rt/terminal_keys.h>
#include <rt/work_pool.h>
#include <string>
#include <xmmintrin.h>
#include <thread>
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace {

class StdoutSink final : public rt::ConsoleSink {
public:
    void write(rt::StringView text) override
    {
        fwrite(text.data(), 1, text.length(), stdout);
        fflush(stdout); // tokens should appear as they are generated
    }
};

// stdin read as a terminal's keys (rt::TerminalKeys), without waiting: poll() answers at
// once, so a story can look for Ctrl+C (byte 3, from a pipe or a terminal) between its
// tokens. A terminal is switched to pass keys on as typed when they are first looked for
// (host::KeyTerminal), so a run that reads none leaves it alone.
class StdinSource final : public rt::InputSource {
public:
    int poll() override
    {
        host::KeyTerminal::take_over();
        while (!m_ended) {
            pollfd ready { STDIN_FILENO, POLLIN, 0 };
            if (::poll(&ready, 1, 0) <= 0)
                return nothing_waiting;
            u8 byte;
            if (read(STDIN_FILENO, &byte, 1) != 1) {
                m_ended = true;
                break;
            }
            int key = m_keys.take(byte);
            if (key != rt::TerminalKeys::nothing)
                return key;
        }
        return end_of_input;
    }
    void idle() override
    {
        pollfd ready { STDIN_FILENO, POLLIN, 0 };
        ::poll(&ready, 1, 10); // until a byte comes, 10 ms at most
    }

private:
    rt::TerminalKeys m_keys;
    bool m_ended { false };
};

struct FileBytes {
    u8* data { nullptr };
    size_t size { 0 };
};

// Memory for the weights and the heap, in 2 MiB pages where the kernel gives them (Linux's
// transparent huge pages, often left to madvise): streaming a model's weights then misses
// the TLB 512 times less often. 110M fp32, one thread, alternating: 12.8-13.4 GB/s of
// weights read with 4 KiB pages, 13.6-14.4 with 2 MiB ones (bareflow-membench likewise).
void* allocate_in_huge_pages(size_t bytes)
{
    constexpr size_t huge_page = size_t(2) << 20;
    bytes = (bytes + huge_page - 1) & ~(huge_page - 1);
    void* memory = aligned_alloc(huge_page, bytes);
    if (memory)
        madvise(memory, bytes, MADV_HUGEPAGE); // a hint: without it, 4 KiB pages
    return memory;
}

bool read_file(const char* path, FileBytes& out)
{
    FILE* file = fopen(path, "rb");
    if (!file)
        return false;
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    // Page-aligned (on a 2 MiB page) like a Multiboot2 module, so both builds see the same
    // alignment.
    out.size = size_t(size);
    out.data = static_cast<u8*>(allocate_in_huge_pages(out.size + 1));
    bool ok = out.data && fread(out.data, 1, out.size, file) == out.size;
    fclose(file);
    // Read one byte per page now: under some hypervisors the first touch of a freshly
    // filled page is very slow, and that would be billed to the first token.
    volatile u8 sink = 0;
    for (size_t i = 0; ok && i < out.size; i += 4096)
        sink = sink + out.data[i];
    return ok;
}

double monotonic_seconds()
{
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return double(now.tv_sec) + double(now.tv_nsec) * 1e-9;
}

void calibrate_cycle_clock()
{
    double start = monotonic_seconds();
    u64 cycles = rt::read_cycles();
    while (monotonic_seconds() - start < 0.05) { }
    double elapsed = monotonic_seconds() - start;
    rt::CycleClock::set_frequency(u64(double(rt::read_cycles() - cycles) / elapsed));
}

// Quotes one argument for the kernel command-line parser ("prompt=Once upon a time").
std::string quoted(const char* argument)
{
    std::string out = "\"";
    for (const char* p = argument; *p; ++p) {
        if (*p == '"' || *p == '\\')
            out += '\\';
        out += *p;
    }
    return out + "\"";
}

}

// Denormals flushed to zero and read as zero (MXCSR's FTZ and DAZ) on the calling thread,
// as the kernel sets them on every core (arch/x86/boot.asm): part of the model's one
// order of arithmetic (app/llm/fp32_order.h), so the host prints the kernel's tokens.
static void flush_denormals() { _mm_setcsr(_mm_getcsr() | 0x8040); }

int main(int argc, char** argv)
{
    flush_denormals();
    StdoutSink out;
    StdinSource in;
    host::KeyTerminal::Guard terminal_given_back;
    rt::Console::the().attach_output(out);
    rt::Console::the().attach_input(in);
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL.bin TOKENIZER.bin [key=value ...]\n"
                        "keys: mode=generate|interactive|bench|chat prompt=\"...\" system=\"...\" steps=N temp=T topp=P seed=S quant=q8 tune=auto|off|PLAN cpus=N\n", argv[0]);
        return 2;
    }
    FileBytes model, tokenizer;
    if (!read_file(argv[1], model)) {
        fprintf(stderr, "[error] cannot read model file '%s'\n", argv[1]);
        return 1;
    }
    if (!read_file(argv[2], tokenizer)) {
        fprintf(stderr, "[error] cannot read tokenizer file '%s'\n", argv[2]);
        return 1;
    }

    // The heap gets a large lazily-committed arena; BAREFLOW_HEAP_MIB shrinks it to test
    // the out-of-memory paths.
    size_t heap_bytes = size_t(1024) << 20;
    if (const char* mib = getenv("BAREFLOW_HEAP_MIB"))
        heap_bytes = size_t(strtoul(mib, nullptr, 10)) << 20;
    void* arena = mmap(nullptr, heap_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (arena == MAP_FAILED) {
        fprintf(stderr, "[error] cannot reserve %zu MiB for the heap\n", heap_bytes >> 20);
        return 1;
    }
    madvise(arena, heap_bytes, MADV_HUGEPAGE); // int8 copies of weights live there too
    rt::MemoryRange usable[] = { { uptr(arena), heap_bytes } };
    rt::Heap::the().initialize(usable, {}, UINT64_MAX);
    calibrate_cycle_clock();

    std::string text;
    for (int i = 3; i < argc; ++i)
        text += quoted(argv[i]) + " ";
    static rt::CommandLine command_line;
    auto parsed = rt::CommandLine::parse({ text.data(), text.size() }, command_line);
    if (parsed.is_error()) {
        rt::println("[error] {}", parsed.error().message());
        return 1;
    }
    // cpus=N: the same work pool as the kernel's cores, on threads (default 1).
    auto cpus = command_line.get_integer("cpus", 1, 1, i64(rt::WorkPool::max_workers));
    if (cpus.is_error()) {
        rt::println("[error] {}", cpus.error().message());
        return 1;
    }
    auto& pool = rt::WorkPool::the();
    pool.set_helper_count(size_t(cpus.value() - 1));
    pool.set_worker_count(size_t(cpus.value()));
    u32 generation = pool.prepare_helpers();
    std::vector<std::thread> helpers;
    for (size_t i = 1; i < size_t(cpus.value()); ++i)
        helpers.emplace_back([i, generation] {
            flush_denormals();
            rt::WorkPool::the().worker_loop(i, generation);
        });
    struct JoinAtExit {
        std::vector<std::thread>& threads;
        ~JoinAtExit()
        {
            rt::WorkPool::the().shut_down_workers();
            for (auto& t : threads)
                t.join();
        }
    } join_at_exit { helpers };

    rt::CpuFeatures cpu = rt::detect_cpu_features();
    // Today in local time, as Hugging Face's strftime_now gives it.
    time_t seconds = time(nullptr);
    struct tm local {};
    rt::DateTime today {};
    bool dated = localtime_r(&seconds, &local) != nullptr;
    if (dated)
        today = { local.tm_year + 1900, u8(local.tm_mon + 1), u8(local.tm_mday), u8(local.tm_hour), u8(local.tm_min), u8(local.tm_sec) };
    auto result = app::run({ { model.data, model.size }, { tokenizer.data, tokenizer.size }, command_line, cpu, u64(seconds),
        dated && today.valid() ? &today : nullptr });
    if (result.is_error()) {
        rt::println("[error] {}", result.error().message());
        return 1;
    }
    return 0;
}
