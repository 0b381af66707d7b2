; Application processors start here, in 16-bit real mode, at the page the boot CPU named
; in its start-up IPI (CS = page, IP = 0). Only the stub up to ap_trampoline_end is copied
; to that page; it addresses its data through CS, so any free page below 1 MiB works. It
; loads our GDT and jumps to protected-mode code in the kernel proper, which gives the core
; the boot CPU's CR4, CR3 and CR0, in that order: where the boot CPU pages (only to show a
; framebuffer above 4 GiB, paging.h), CR0 turns paging on, and PAE and the tables must be in
; place by then. A core leaves reset (or INIT) with CR0.CD and CR0.NW set,
; i.e. with its caches off: left that way it computes many times slower than the others.
bits 16

extern gdt
extern ap_main
extern enable_fpu_and_sse
global ap_trampoline_start
global ap_trampoline_end
global ap_stack_top
global ap_index
global ap_cr0
global ap_cr4
global ap_cr3

section .text
ap_trampoline_start:
    cli
    cld
    o32 lgdt [cs:ap_gdtr - ap_trampoline_start]
    mov eax, cr0
    and eax, ~((1 << 30) | (1 << 29))     ; caches on (CD and NW clear) from the first fetch
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
    mov eax, [ap_cr4]                     ; the boot CPU's control registers (smp.cpp)
    mov cr4, eax
    mov eax, [ap_cr3]
    mov cr3, eax
    mov eax, [ap_cr0]
    mov cr0, eax
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
ap_cr0: dd 0x00000033                     ; PE MP ET NE until the boot CPU records its own
ap_cr4: dd 0x00000600                     ; OSFXSR OSXMMEXCPT
ap_cr3: dd 0                              ; the page tables, where the boot CPU pages
