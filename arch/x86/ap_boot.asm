; Application processors start here, in 16-bit real mode, at the page the boot CPU named
; in its start-up IPI (CS = page, IP = 0). Only the stub up to ap_trampoline_end is copied
; to that page; it addresses its data through CS, so any free page below 1 MiB works. It
; loads our GDT and jumps to protected-mode code in the kernel proper.
bits 16

extern gdt
extern ap_main
extern enable_fpu_and_sse
global ap_trampoline_start
global ap_trampoline_end
global ap_stack_top
global ap_index

section .text
ap_trampoline_start:
    cli
    cld
    o32 lgdt [cs:ap_gdtr - ap_trampoline_start]
    mov eax, cr0
    or al, 1                              ; protected mode
    mov cr0, eax
    jmp dword 0x08:ap_protected_mode
align 4
ap_gdtr:
    dw 23                                 ; three descriptors
    dd gdt
ap_trampoline_end:

bits 32
ap_protected_mode:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, [ap_stack_top]
    xor ebp, ebp
    call enable_fpu_and_sse
    sub esp, 12                           ; keep the call 16-byte aligned
    push dword [ap_index]
    call ap_main
.hang:
    cli
    hlt
    jmp .hang

section .data
align 4
ap_stack_top: dd 0                        ; set by the boot CPU before each start-up IPI
ap_index: dd 0
