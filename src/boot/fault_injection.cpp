#include <rt/boot.h>
#include <rt/console.h>
#include <rt/fault_injection.h>
#include <rt/stack_watch.h>
#include <rt/work_pool.h>

namespace rt::boot {

namespace {

// Calls itself, a quarter kilobyte of stack a call, until its frame lies below `floor`.
[[gnu::noinline]] u32 descend(uptr floor)
{
    volatile u8 frame[256];
    frame[0] = 1;
    frame[255] = 0;
    if (uptr(&frame[0]) > floor)
        frame[255] = u8(descend(floor)); // used after the call: no tail call
    return frame[0] + frame[255];
}

}

ErrorOr<void> trigger_requested_fault(CommandLine const& command_line, FaultTriggers const& triggers)
{
    auto kind = TRY(command_line.get_choice("fault", fault_kinds, ""));
    if (kind.is_empty())
        return {};
    println("[fault] triggering a deliberate '{}' fault as the command line asked", kind);
    if (kind == "divide") {
        triggers.divide_error();
    } else if (kind == "opcode") {
        triggers.invalid_opcode();
    } else if (kind == "protection") {
        triggers.protection_fault();
    } else if (kind == "stack-overflow") {
        u8* bottom = StackWatch::the().bottom(0);
        if (!bottom) {
            println("[fault] the boot core's stack is not watched: nothing to overflow into");
            return {};
        }
        descend(uptr(bottom) + StackWatch::guard_bytes / 2);
    } else if (kind == "ap-opcode") {
        if (WorkPool::the().worker_count() < 2) {
            println("[fault] only one core is working: no application processor to fault on");
            return {};
        }
        // Two one-item chunks, each taken by the worker whose share it is or by whoever is
        // free first. Each waits until both are taken, so the caller cannot run both: one
        // is on another core. That one (it is not on the caller's stack: every core has
        // its own) faults.
        char caller_frame;
        uptr caller_stack = uptr(&caller_frame);
        u32 started = 0;
        bool alone = false;
        WorkPool::the().parallel_for(2, 1, [&](size_t, size_t) {
            __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
            for (u64 spin = 0; __atomic_load_n(&started, __ATOMIC_SEQ_CST) < 2; ++spin)
                if (spin == 1'000'000'000) { // seconds: the other core never came
                    alone = true;
                    return;
                }
            char frame;
            uptr here = uptr(&frame);
            bool on_caller = (here > caller_stack ? here - caller_stack : caller_stack - here) < 64 * 1024;
            if (!on_caller)
                triggers.invalid_opcode();
        });
        if (alone)
            println("[fault] no application processor took part: nothing faulted");
    }
    return {};
}

}
