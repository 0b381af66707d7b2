#pragma once

namespace x86 {

// One faulting instruction each, for fault= (rt/fault_injection.h). Written in assembly:
// the compiler may rewrite a division it can prove is by zero.
void cause_divide_error();
void cause_invalid_opcode();
void cause_protection_fault();

}
