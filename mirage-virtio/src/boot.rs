//! The kernel's entry. QEMU (its PVH loader) enters `_start32`, named by the PVH ELF note,
//! in 32-bit protected mode without paging, `ebx` holding the physical address of
//! `hvm_start_info`. The code maps the first 4 GiB one to one with 2 MiB pages, turns on
//! SSE, PAE and long mode, loads a GDT with a 64-bit code segment, and jumps to 64-bit code,
//! which switches to the kernel's stack and calls into Rust.

core::arch::global_asm!(
    r#"
    .pushsection .note.Xen, "a", @note
    .balign 4
    .long 4, 6f - 5f, 18         /* XEN_ELFNOTE_PHYS32_ENTRY: QEMU's PVH boot */
    .asciz "Xen"
5:  .long _start32
6:  .balign 4
    .popsection

    .pushsection .bss.mirage_boot, "aw", @nobits
    .balign 4096
mirage_pml4:
    .skip 4096
mirage_pdpt:
    .skip 4096
mirage_pds:
    .skip 4 * 4096               /* 4 GiB in 2 MiB pages */
    .balign 16
mirage_stack_bottom:
    .skip 524288                 /* 512 KiB: futures live on the heap; this is for calls */
mirage_stack_top:
    .balign 8
    .globl mirage_boot_tsc
mirage_boot_tsc:
    .skip 8                      /* the TSC at the first instruction */
    .popsection

    .pushsection .rodata.mirage_gdt, "a"
    .balign 16
mirage_gdt:
    .quad 0
    .quad 0x00af9a000000ffff     /* 0x08: 64-bit code, ring 0 */
    .quad 0x00cf92000000ffff     /* 0x10: data */
mirage_gdt_end:
mirage_gdt_pointer:
    .word mirage_gdt_end - mirage_gdt - 1
    .quad mirage_gdt
    .popsection

    .pushsection .text.boot, "ax"
    .code32
    .globl _start32
_start32:
    cli
    cld
    mov %ebx, %esi               /* hvm_start_info, kept to the end */
    rdtsc
    mov %eax, mirage_boot_tsc
    mov %edx, mirage_boot_tsc + 4

    /* PML4[0] -> PDPT; PDPT[0..4] -> the four PDs; each PD entry a 2 MiB page. */
    lea mirage_pdpt + 3, %eax
    mov %eax, mirage_pml4
    xor %ecx, %ecx
7:  mov %ecx, %eax
    shl $12, %eax                /* PD i is at pds + i * 4096 */
    add $mirage_pds + 3, %eax
    mov %eax, mirage_pdpt(,%ecx,8)
    inc %ecx
    cmp $4, %ecx
    jne 7b
    xor %ecx, %ecx
8:  mov %ecx, %eax
    shl $21, %eax                /* low 32 bits of i * 2 MiB */
    or $0x83, %eax               /* present, writable, 2 MiB page */
    mov %ecx, %edx
    shr $11, %edx                /* high bits of i * 2 MiB */
    mov %eax, mirage_pds(,%ecx,8)
    mov %edx, mirage_pds + 4(,%ecx,8)
    inc %ecx
    cmp $2048, %ecx
    jne 8b

    mov $mirage_pml4, %eax
    mov %eax, %cr3
    mov %cr4, %eax
    or $0x620, %eax              /* PAE, OSFXSR, OSXMMEXCPT */
    mov %eax, %cr4
    mov $0xc0000080, %ecx        /* EFER */
    rdmsr
    or $0x100, %eax              /* LME */
    wrmsr
    mov %cr0, %eax
    and $0xfffffffb, %eax        /* no EM: SSE is used */
    or $0x80000002, %eax         /* PG, MP */
    mov %eax, %cr0
    lgdt mirage_gdt_pointer
    ljmp $0x08, $mirage_start64

    .code64
mirage_start64:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    lea mirage_stack_top(%rip), %rsp
    mov %esi, %edi
    call mirage_virtio_start
    ud2
    .popsection
    "#,
    options(att_syntax)
);

unsafe extern "C" {
    /// The TSC when `_start32` began.
    static mirage_boot_tsc: u64;
    /// The first page after the kernel's image and `.bss` (the linker script's).
    static mirage_kernel_end: u8;
}

/// Where `_start32` goes, on the kernel's stack, in long mode.
#[unsafe(no_mangle)]
extern "C" fn mirage_virtio_start(start_info: u32) -> ! {
    crate::kernel::start(start_info as usize)
}

/// The TSC at the kernel's first instruction.
pub(crate) fn first_tsc() -> u64 {
    // SAFETY: written once by `_start32`, before any Rust code, and never again.
    unsafe { core::ptr::read_volatile(&raw const mirage_boot_tsc) }
}

/// The physical (= virtual) address of the first byte after the kernel.
pub(crate) fn kernel_end() -> usize {
    &raw const mirage_kernel_end as usize
}
