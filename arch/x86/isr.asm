; Interrupt entry stubs. Each pushes a uniform frame (vector, error code, registers),
; saves the SSE state (compiled C++ may use xmm registers anywhere), aligns the stack to
; 16 bytes and calls interrupt_dispatch(InterruptFrame*).
bits 32

extern interrupt_dispatch

%macro STUB_NO_ERROR 1
isr_stub_%1:
    push dword 0                          ; no error code: keep the frame uniform
    push dword %1
    jmp common_stub
%endmacro

%macro STUB_WITH_ERROR 1
isr_stub_%1:
    push dword %1                         ; the CPU already pushed an error code
    jmp common_stub
%endmacro

section .text
common_stub:
    pushad
    mov ebx, esp                          ; ebx = InterruptFrame*
    mov eax, cr2
    push eax                              ; frame->cr2 sits just below pushad's block
    mov ebx, esp
    mov edi, esp
    and esp, -16
    sub esp, 512
    fxsave [esp]
    sub esp, 12
    push ebx
    call interrupt_dispatch
    add esp, 16
    fxrstor [esp]
    mov esp, edi
    add esp, 4                            ; drop cr2
    popad
    add esp, 8                            ; drop vector and error code
    iretd

; Exceptions 8, 10-14, 17, 21, 29, 30 push an error code. 32-47 are the PIC's lines,
; 48 the inter-processor wake-up, 63 the local APIC's spurious vector.
%assign i 0
%rep 64
%if i == 8 || (i >= 10 && i <= 14) || i == 17 || i == 21 || i == 29 || i == 30
    STUB_WITH_ERROR i
%else
    STUB_NO_ERROR i
%endif
%assign i i + 1
%endrep

section .rodata
global isr_stub_table
isr_stub_table:
%assign i 0
%rep 64
    dd isr_stub_ %+ i
%assign i i + 1
%endrep
