//! The kernel's entry: the ELF notes Xen's domain builder requires, `_start` (Xen enters it
//! in long mode with `rsi` pointing at start_info and a one-page stack), and the switch to
//! our own stack.

use crate::start_info::StartInfo;

core::arch::global_asm!(
    r#"
    .pushsection .note.Xen, "a", @note
    .balign 4
    .long 4, 6f - 5f, 6          /* XEN_ELFNOTE_GUEST_OS */
    .asciz "Xen"
5:  .asciz "mirage-rs"
6:  .balign 4
    .long 4, 6f - 5f, 7          /* XEN_ELFNOTE_GUEST_VERSION */
    .asciz "Xen"
5:  .asciz "0.1"
6:  .balign 4
    .long 4, 6f - 5f, 5          /* XEN_ELFNOTE_XEN_VERSION: required */
    .asciz "Xen"
5:  .asciz "xen-3.0"
6:  .balign 4
    .long 4, 6f - 5f, 8          /* XEN_ELFNOTE_LOADER: required */
    .asciz "Xen"
5:  .asciz "generic"
6:  .balign 4
    .long 4, 6f - 5f, 3          /* XEN_ELFNOTE_VIRT_BASE */
    .asciz "Xen"
5:  .quad 0
6:  .balign 4
    .long 4, 6f - 5f, 4          /* XEN_ELFNOTE_PADDR_OFFSET */
    .asciz "Xen"
5:  .quad 0
6:  .balign 4
    .long 4, 6f - 5f, 1          /* XEN_ELFNOTE_ENTRY */
    .asciz "Xen"
5:  .quad _start
6:  .balign 4
    .popsection

    .pushsection .bss.mirage_stack, "aw", @nobits
    .balign 4096
    .globl mirage_stack_guard
mirage_stack_guard:
    .skip 4096                   /* unmapped at boot: an overflow faults, not corrupts */
mirage_stack_bottom:
    .skip 524288                 /* 512 KiB: futures live on the heap; this is for calls */
mirage_stack_top:
    .popsection

    .pushsection .bss.mirage_boot_tsc, "aw", @nobits
    .balign 8
    .globl mirage_boot_tsc
mirage_boot_tsc:
    .skip 8                      /* the TSC at the first instruction */
    .popsection

    .pushsection .text.boot, "ax"
    .globl _start
_start:
    rdtsc
    shlq $32, %rdx
    orq %rdx, %rax
    movq %rax, mirage_boot_tsc(%rip)
    lea mirage_stack_top(%rip), %rsp
    mov %rsi, %rdi
    call mirage_xen_pv_start
    ud2
    .popsection
    "#,
    options(att_syntax)
);

/// Where `_start` goes, on our stack.
#[unsafe(no_mangle)]
extern "C" fn mirage_xen_pv_start(start_info: &'static StartInfo) -> ! {
    crate::kernel::start(start_info)
}

unsafe extern "C" {
    /// The page below the stack (in the assembly above).
    static mirage_stack_guard: u8;
    /// The TSC when `_start` began.
    static mirage_boot_tsc: u64;
}

/// Nanoseconds from the kernel's first instruction until now (shared-info must be mapped:
/// the TSC's scale is there).
pub(crate) fn since_first_instruction() -> u64 {
    // SAFETY: written once by `_start`, before any Rust code, and never again.
    let start = unsafe { core::ptr::read_volatile(&raw const mirage_boot_tsc) };
    // SAFETY: rdtsc has no preconditions.
    let now = unsafe { core::arch::x86_64::_rdtsc() };
    crate::shared_info::tsc_ns(now.wrapping_sub(start))
}

/// Unmaps the page below the stack, so that a stack overflow faults (Xen crashes the
/// domain: "Unhandled page fault" in `xl dmesg`) instead of overwriting `.bss`.
pub(crate) fn guard_stack() -> Result<(), i64> {
    use crate::hypercall::{UPDATE_VA_MAPPING, hypercall3};
    const UVMF_INVLPG: u64 = 2;
    // SAFETY: the guard page is this kernel's alone and nothing uses it; a zero PTE unmaps
    // it.
    let rc = unsafe {
        hypercall3(
            UPDATE_VA_MAPPING,
            &raw const mirage_stack_guard as u64,
            0,
            UVMF_INVLPG,
        )
    };
    if rc == 0 { Ok(()) } else { Err(rc) }
}
