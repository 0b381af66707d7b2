; BareFlow entry: the Multiboot2 header, a flat GDT, the stack, BSS clearing, the SSE2
; check and FPU/SSE enable, then kernel_main(magic, info). Everything else is C++.
bits 32

MB2_MAGIC           equ 0xE85250D6
MB2_ARCH_I386       equ 0
TAG_OPTIONAL        equ 1

section .multiboot2
align 8
header_start:
    dd MB2_MAGIC
    dd MB2_ARCH_I386
    dd header_end - header_start
    dd -(MB2_MAGIC + MB2_ARCH_I386 + (header_end - header_start))

    ; Information request: command line, modules, memory map, framebuffer (required),
    ; ACPI RSDPs (optional, not every firmware has both).
align 8
    dw 1, 0
    dd 8 + 4 * 4
    dd 1, 3, 6, 8
align 8
    dw 1, TAG_OPTIONAL
    dd 8 + 4 * 2
    dd 14, 15

    ; Console flags: we can drive EGA text, so GRUB may leave BIOS boots in text mode.
align 8
    dw 4, TAG_OPTIONAL
    dd 12
    dd 1 << 1

    ; Framebuffer: 1024x768x32 preferred. GRUB turns this into its gfxpayload setting when
    ; `multiboot2` runs; grub.cfg overrides it with gfxpayload=text afterwards on BIOS.
align 8
    dw 5, TAG_OPTIONAL
    dd 20
    dd 1024, 768, 32

    ; Page-align modules, so weights can be used in place with aligned loads.
align 8
    dw 6, 0
    dd 8

align 8
    dw 0, 0
    dd 8
header_end:

section .bss
align 16
global stack_bottom, stack_top            ; watched for how deep it goes (rt/stack_watch.h)
stack_bottom:
    resb 256 * 1024
stack_top:

section .data
align 16
global gdt
gdt:
    dq 0                                  ; null
    dq 0x00CF9A000000FFFF                 ; 0x08: code, base 0, 4 GiB, 32-bit
    dq 0x00CF92000000FFFF                 ; 0x10: data, base 0, 4 GiB
gdt_end:
gdt_pointer:
    dw gdt_end - gdt - 1
    dd gdt

no_sse2_message: db "BareFlow: this CPU has no SSE2; BareFlow needs a Pentium 4 or newer. Halted.", 0

section .text
; x87 on (the i386 ABI returns floats in st0), SSE on with its exceptions reported, and
; the caches on in case a loader left them off. Every processor runs this: the boot CPU
; here, the others from ap_boot.asm.
;
; MXCSR: every exception masked, and denormals flushed to zero (FTZ) and read as zero
; (DAZ), as app/llm/fp32_order.h defines the model's arithmetic on every core: Intel cores
; take a slow microcode assist on each denormal, and attention's weights underflow to them.
; DAZ only where the CPU has it (bit 6 of the MXCSR_MASK that FXSAVE stores; a mask of 0
; means the original 0xFFBF, without it): setting an unsupported bit faults.
MXCSR_FTZ equ 1 << 15
MXCSR_DAZ equ 1 << 6
global enable_fpu_and_sse
enable_fpu_and_sse:
    mov eax, cr0
    and eax, ~((1 << 2) | (1 << 3) | (1 << 29) | (1 << 30)) ; clear EM and TS; caches on (NW, CD)
    or eax, (1 << 1) | (1 << 5)           ; set MP and NE
    mov cr0, eax
    mov eax, cr4
    or eax, (1 << 9) | (1 << 10)          ; OSFXSR, OSXMMEXCPT
    mov cr4, eax
    fninit
    push ebp
    mov ebp, esp
    sub esp, 512 + 16                     ; an FXSAVE area, 16-byte aligned
    and esp, ~15
    fxsave [esp]
    mov eax, [esp + 28]                   ; MXCSR_MASK
    test eax, eax
    jnz .mask_known
    mov eax, 0xFFBF
.mask_known:
    and eax, MXCSR_DAZ
    or eax, 0x1F80 | MXCSR_FTZ            ; all exceptions masked
    mov [esp], eax
    ldmxcsr [esp]
    mov esp, ebp
    pop ebp
    ret

section .text.entry
global _start
extern kernel_main
extern __bss_start
extern __bss_end

_start:
    cli
    cld
    mov edx, eax                          ; Multiboot2 magic
    mov esi, ebx                          ; boot information address

    ; Clear BSS before anything lives there (the stack does). rep stosb uses eax, ecx, edi.
    mov edi, __bss_start
    mov ecx, __bss_end
    sub ecx, edi
    xor eax, eax
    rep stosb

    mov esp, stack_top
    xor ebp, ebp                          ; terminates the stack walk in exception reports

    ; Our own GDT: the boot loader's may live in memory we are about to reuse.
    lgdt [gdt_pointer]
    jmp 0x08:.reload_segments
.reload_segments:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax

    ; Compiled code uses SSE2 throughout: check for it before running any of it.
    push edx
    mov eax, 1
    cpuid
    test edx, 1 << 26
    pop edx
    jz .no_sse2

    call enable_fpu_and_sse

    ; kernel_main(magic, info) with the stack 16-byte aligned at the call.
    sub esp, 8
    push esi
    push edx
    call kernel_main
.hang:
    cli
    hlt
    jmp .hang

.no_sse2:
    ; No C++ may run: write the message to COM1 and VGA text memory from here.
    mov esi, no_sse2_message
    mov edi, 0xB8000
.next_char:
    lodsb
    test al, al
    jz .report_failure
    mov ah, 0x4F                          ; white on red
    mov [edi], ax
    add edi, 2
    mov bl, al
    mov dx, 0x3FD                         ; COM1 line status
    mov ecx, 100000
.wait_serial:
    in al, dx
    test al, 0x20
    jnz .send
    loop .wait_serial
.send:
    mov dx, 0x3F8
    mov al, bl
    out dx, al
    jmp .next_char
.report_failure:
    mov dx, 0xF4                          ; QEMU isa-debug-exit: failure
    mov al, 0x11
    out dx, al
    jmp .hang
