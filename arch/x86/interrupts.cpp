#include <arch/x86/cpu.h>
#include <arch/x86/interrupts.h>
#include <arch/x86/pic.h>
#include <arch/x86/power.h>
#include <rt/console.h>

extern "C" const u32 isr_stub_table[64];
extern "C" const u8 __kernel_start[], __kernel_end[];

namespace x86 {

namespace {

struct [[gnu::packed]] IdtEntry {
    u16 offset_low;
    u16 selector;
    u8 zero;
    u8 type_attributes;
    u16 offset_high;
};

struct [[gnu::packed]] IdtPointer {
    u16 limit;
    u32 base;
};

constexpr u16 kernel_code_selector = 0x08;
constexpr u8 present_ring0_interrupt_gate = 0x8E;
constexpr u32 exception_count = 32;

IdtEntry idt[last_vector + 1];
InterruptHandler vector_handlers[last_vector + 1 - first_device_vector];
ProcessorHooks processor_hooks;
volatile bool in_exception;

u32 current_cpu_index() { return processor_hooks.current_cpu_index ? processor_hooks.current_cpu_index() : 0; }

constexpr const char* exception_names[exception_count] = {
    "divide error", "debug", "non-maskable interrupt", "breakpoint", "overflow", "bound range exceeded",
    "invalid opcode", "device not available", "double fault", "coprocessor segment overrun", "invalid TSS",
    "segment not present", "stack-segment fault", "general protection fault", "page fault", "reserved",
    "x87 floating-point error", "alignment check", "machine check", "SIMD floating-point error",
    "virtualization exception", "control protection exception", "reserved", "reserved", "reserved", "reserved",
    "reserved", "reserved", "hypervisor injection", "VMM communication", "security exception", "reserved",
};

bool is_kernel_address(u32 address)
{
    return address >= uptr(__kernel_start) && address < uptr(__kernel_end);
}

void report_exception(InterruptFrame const& frame)
{
    rt::Console::the().set_color(rt::Color::Bad);
    rt::println("\n[fault] CPU exception {} ({}) on CPU {}: {}", frame.vector, frame.vector < exception_count ? exception_names[frame.vector] : "?",
        current_cpu_index(), frame.vector == 14 ? "bad memory access" : "execution stopped");
    rt::Console::the().set_color(rt::Color::Log);
    rt::println("[fault] eip={:#010x} cs={:#06x} eflags={:#010x} error code={:#x}", frame.eip, frame.cs, frame.eflags, frame.error_code);
    rt::println("[fault] eax={:#010x} ebx={:#010x} ecx={:#010x} edx={:#010x}", frame.eax, frame.ebx, frame.ecx, frame.edx);
    // pushad saved esp as it was after the CPU pushed eip/cs/eflags and our two words.
    rt::println("[fault] esi={:#010x} edi={:#010x} ebp={:#010x} esp={:#010x}", frame.esi, frame.edi, frame.ebp, frame.esp_at_pushad + 20);
    rt::println("[fault] cr0={:#010x} cr3={:#010x} cr4={:#010x}", read_cr0(), read_cr3(), read_cr4());
    if (frame.vector == 14) {
        rt::println("[fault] cr2={:#010x} (the address that faulted): {} {} in {} mode", frame.cr2,
            frame.error_code & 1 ? "protection violation on" : "no page for",
            frame.error_code & 2 ? "write" : "read", frame.error_code & 4 ? "user" : "kernel");
    }
    // Walk the frame-pointer chain (the kernel is built with frame pointers); stop at the
    // first pointer that leaves our memory so a corrupt stack cannot fault again.
    rt::print("[fault] stack: {:#010x}", frame.eip);
    u32 ebp = frame.ebp;
    for (int depth = 0; depth < 12 && ebp && ebp % 4 == 0 && is_kernel_address(ebp); ++depth) {
        auto const* record = reinterpret_cast<const u32*>(uptr(ebp));
        u32 return_address = record[1];
        if (!is_kernel_address(return_address))
            break;
        rt::print(" <- {:#010x}", return_address);
        ebp = record[0];
    }
    rt::println("");
    rt::println("[fault] look the addresses up with: addr2line -f -C -e bareflow.elf <address>");
}

}

void initialize_interrupts()
{
    for (u32 vector = 0; vector <= last_vector; ++vector) {
        u32 handler = isr_stub_table[vector];
        idt[vector] = { u16(handler), kernel_code_selector, 0, present_ring0_interrupt_gate, u16(handler >> 16) };
    }
    load_interrupt_table();
    pic::initialize();
}

void load_interrupt_table()
{
    IdtPointer pointer { sizeof idt - 1, u32(uptr(idt)) };
    asm volatile("lidt %0" ::"m"(pointer));
}

void set_vector_handler(u8 vector, InterruptHandler handler)
{
    vector_handlers[vector - first_device_vector] = handler;
}

void set_processor_hooks(ProcessorHooks hooks)
{
    processor_hooks = hooks;
}

}

extern "C" void interrupt_dispatch(x86::InterruptFrame* frame)
{
    using namespace x86;
    if (frame->vector < exception_count) {
        // Another processor is already reporting a fault: this is its stop signal (an NMI),
        // or a fault while reporting. Halt without printing again (it could recurse).
        if (__atomic_exchange_n(&in_exception, true, __ATOMIC_ACQ_REL))
            halt_forever();
        if (processor_hooks.stop_other_processors)
            processor_hooks.stop_other_processors();
        report_exception(*frame);
        shut_down(ExitStatus::Failure);
    }
    if (frame->vector > last_vector)
        return;
    auto handler = vector_handlers[frame->vector - first_device_vector];
    if (handler)
        handler(*frame);
    if (frame->vector >= pic::irq_base && frame->vector < pic::irq_base + 16)
        pic::end_of_interrupt(u8(frame->vector - pic::irq_base));
}
