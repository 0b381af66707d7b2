#pragma once
// fault=divide|opcode|protection|ap-opcode: a deliberate CPU exception, so tests can check
// that a fault is reported and ends the run with the failure code instead of a reboot loop.
// fault=stack-overflow: a recursion that goes into the boot core's stack guard (never
// below its stack), which the end of the run must name as a fault.
#include <rt/cmdline.h>

namespace rt::boot {

// The instructions that fault, from the platform (each is one CPU-specific instruction).
struct FaultTriggers {
    void (*divide_error)();
    void (*invalid_opcode)();
    void (*protection_fault)();
};

// Triggers what fault= asks for (`fault_kinds` in rt/boot.h); ap-opcode runs the invalid
// opcode on CPU 1 through the work pool; stack-overflow returns once the recursion has
// touched the guard. Returns when nothing was asked for, when no
// second core works, or when a trigger returns; an unknown kind is an error.
ErrorOr<void> trigger_requested_fault(CommandLine const&, FaultTriggers const&);

}
