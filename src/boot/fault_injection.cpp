#include <rt/boot.h>
#include <rt/console.h>
#include <rt/fault_injection.h>
#include <rt/work_pool.h>

namespace rt::boot {

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
    } else if (kind == "ap-opcode") {
        if (WorkPool::the().worker_count() < 2) {
            println("[fault] only one core is working: no application processor to fault on");
            return {};
        }
        // Two one-item chunks: the second goes to CPU 1, which runs into the invalid opcode.
        WorkPool::the().parallel_for(2, 1, [&triggers](size_t begin, size_t) {
            if (begin == 1)
                triggers.invalid_opcode();
        });
    }
    return {};
}

}
