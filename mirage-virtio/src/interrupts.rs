//! Interrupts, taken only while the CPU halts: the IDT (exceptions end the kernel with
//! their name on the console; the 8259 PIC's lines, remapped to vectors 32-47, are noted as
//! pending), and the PIT's channel 0 as a one-shot timer that ends a halt at the next
//! deadline. Interrupts are enabled only while the CPU halts, so no handler ever runs in the
//! middle of other code.

use crate::clock::PIT_HZ;
use crate::port::{inb, outb};
use core::sync::atomic::{AtomicU16, Ordering};

/// The first vector of the PIC's lines.
const IRQ_BASE: u8 = 32;
/// Lines that have interrupted and not been taken yet, one bit each.
static PENDING: AtomicU16 = AtomicU16::new(0);
/// The PIC's mask (a set bit is a masked line), kept to update one line at a time.
static MASK: AtomicU16 = AtomicU16::new(0xffff);

/// The timer's line.
const TIMER: u8 = 0;
/// The line the slave PIC cascades through.
const CASCADE: u8 = 2;

core::arch::global_asm!(
    r#"
    .macro mirage_fault vector, error
    .globl mirage_fault_\vector
mirage_fault_\vector:
    .if \error == 0
    push $0
    .endif
    push $\vector
    jmp mirage_fault_common
    .endm

    .macro mirage_line line
    .globl mirage_line_\line
mirage_line_\line:
    /* Only ever taken inside halt(), whose asm clobbers every caller-saved register:
       nothing needs saving here but the stack's alignment. */
    push %rbp
    mov %rsp, %rbp
    and $-16, %rsp
    mov $\line, %edi
    call mirage_virtio_line
    mov %rbp, %rsp
    pop %rbp
    iretq
    .endm

    .pushsection .text.mirage_interrupts, "ax"
    mirage_fault 0, 0
    mirage_fault 1, 0
    mirage_fault 2, 0
    mirage_fault 3, 0
    mirage_fault 4, 0
    mirage_fault 5, 0
    mirage_fault 6, 0
    mirage_fault 7, 0
    mirage_fault 8, 1
    mirage_fault 9, 0
    mirage_fault 10, 1
    mirage_fault 11, 1
    mirage_fault 12, 1
    mirage_fault 13, 1
    mirage_fault 14, 1
    mirage_fault 15, 0
    mirage_fault 16, 0
    mirage_fault 17, 1
    mirage_fault 18, 0
    mirage_fault 19, 0
    mirage_fault 20, 0
    mirage_fault 21, 1
    mirage_line 0
    mirage_line 1
    mirage_line 2
    mirage_line 3
    mirage_line 4
    mirage_line 5
    mirage_line 6
    mirage_line 7
    mirage_line 8
    mirage_line 9
    mirage_line 10
    mirage_line 11
    mirage_line 12
    mirage_line 13
    mirage_line 14
    mirage_line 15
mirage_fault_common:
    mov (%rsp), %rdi             /* vector */
    mov 8(%rsp), %rsi            /* error code */
    mov 16(%rsp), %rdx           /* where */
    and $-16, %rsp
    call mirage_virtio_fault
    ud2
    .popsection
    "#,
    options(att_syntax)
);

unsafe extern "C" {
    fn mirage_fault_0();
    fn mirage_fault_1();
    fn mirage_fault_2();
    fn mirage_fault_3();
    fn mirage_fault_4();
    fn mirage_fault_5();
    fn mirage_fault_6();
    fn mirage_fault_7();
    fn mirage_fault_8();
    fn mirage_fault_9();
    fn mirage_fault_10();
    fn mirage_fault_11();
    fn mirage_fault_12();
    fn mirage_fault_13();
    fn mirage_fault_14();
    fn mirage_fault_15();
    fn mirage_fault_16();
    fn mirage_fault_17();
    fn mirage_fault_18();
    fn mirage_fault_19();
    fn mirage_fault_20();
    fn mirage_fault_21();
    fn mirage_line_0();
    fn mirage_line_1();
    fn mirage_line_2();
    fn mirage_line_3();
    fn mirage_line_4();
    fn mirage_line_5();
    fn mirage_line_6();
    fn mirage_line_7();
    fn mirage_line_8();
    fn mirage_line_9();
    fn mirage_line_10();
    fn mirage_line_11();
    fn mirage_line_12();
    fn mirage_line_13();
    fn mirage_line_14();
    fn mirage_line_15();
}

/// An interrupt gate: 16 bytes.
#[repr(C)]
#[derive(Clone, Copy)]
struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    kind: u8,
    offset_middle: u16,
    offset_high: u32,
    zero: u32,
}

impl Gate {
    const ABSENT: Gate = Gate {
        offset_low: 0,
        selector: 0,
        ist: 0,
        kind: 0,
        offset_middle: 0,
        offset_high: 0,
        zero: 0,
    };

    fn to(handler: unsafe extern "C" fn()) -> Gate {
        let at = handler as usize;
        Gate {
            offset_low: at as u16,
            selector: 0x08, // boot.rs's 64-bit code segment
            ist: 0,
            kind: 0x8e, // present, ring 0, interrupt gate
            offset_middle: (at >> 16) as u16,
            offset_high: (at >> 32) as u32,
            zero: 0,
        }
    }
}

const VECTORS: usize = IRQ_BASE as usize + 16;

struct Idt(core::cell::UnsafeCell<[Gate; VECTORS]>);
// SAFETY: written once at boot, before interrupts are enabled; read by the CPU only.
unsafe impl Sync for Idt {}
static IDT: Idt = Idt(core::cell::UnsafeCell::new([Gate::ABSENT; VECTORS]));

/// Loads the IDT, remaps the PIC to vectors 32-47 with every line masked but the timer's
/// and the cascade, and leaves interrupts disabled.
pub(crate) fn init() {
    let faults: [unsafe extern "C" fn(); 22] = [
        mirage_fault_0,
        mirage_fault_1,
        mirage_fault_2,
        mirage_fault_3,
        mirage_fault_4,
        mirage_fault_5,
        mirage_fault_6,
        mirage_fault_7,
        mirage_fault_8,
        mirage_fault_9,
        mirage_fault_10,
        mirage_fault_11,
        mirage_fault_12,
        mirage_fault_13,
        mirage_fault_14,
        mirage_fault_15,
        mirage_fault_16,
        mirage_fault_17,
        mirage_fault_18,
        mirage_fault_19,
        mirage_fault_20,
        mirage_fault_21,
    ];
    let lines: [unsafe extern "C" fn(); 16] = [
        mirage_line_0,
        mirage_line_1,
        mirage_line_2,
        mirage_line_3,
        mirage_line_4,
        mirage_line_5,
        mirage_line_6,
        mirage_line_7,
        mirage_line_8,
        mirage_line_9,
        mirage_line_10,
        mirage_line_11,
        mirage_line_12,
        mirage_line_13,
        mirage_line_14,
        mirage_line_15,
    ];
    // SAFETY: boot, one CPU, interrupts off: nothing else reads the table yet.
    let idt = unsafe { &mut *IDT.0.get() };
    for (gate, handler) in idt.iter_mut().zip(faults) {
        *gate = Gate::to(handler);
    }
    for (gate, handler) in idt[usize::from(IRQ_BASE)..].iter_mut().zip(lines) {
        *gate = Gate::to(handler);
    }
    #[repr(C, packed)]
    struct Pointer {
        limit: u16,
        base: u64,
    }
    let pointer = Pointer {
        limit: (core::mem::size_of::<[Gate; VECTORS]>() - 1) as u16,
        base: IDT.0.get() as u64,
    };
    // SAFETY: the table is static and complete; interrupts stay off until `halt`.
    unsafe {
        core::arch::asm!("lidt [{}]", in(reg) &raw const pointer, options(readonly, nostack))
    };

    // The 8259s: initialise, vectors 32 and 40, cascade on line 2, 8086 mode.
    for (command, data, offset, wiring) in
        [(0x20, 0x21, IRQ_BASE, 4), (0xa0, 0xa1, IRQ_BASE + 8, 2)]
    {
        outb(command, 0x11);
        outb(data, offset);
        outb(data, wiring);
        outb(data, 0x01);
    }
    write_mask(0xffff);
    unmask(TIMER);
    unmask(CASCADE);
}

fn write_mask(mask: u16) {
    MASK.store(mask, Ordering::SeqCst);
    outb(0x21, mask as u8);
    outb(0xa1, (mask >> 8) as u8);
}

/// Lets `line` interrupt (again).
pub fn unmask(line: u8) {
    write_mask(MASK.load(Ordering::SeqCst) & !(1 << line));
}

/// Whether `line` interrupted since [`take`] last said so.
pub fn pending(line: u8) -> bool {
    PENDING.load(Ordering::SeqCst) & (1 << line) != 0
}

/// Takes `line`'s interrupt, if one came (it is pending no more), and lets the line
/// interrupt again; whether one had come. The driver calls this once it has seen to its
/// device (a level-triggered line stays masked until then, or it would interrupt without
/// end). A line that did not interrupt was never masked: nothing is written then.
pub fn take(line: u8) -> bool {
    let was = PENDING.fetch_and(!(1 << line), Ordering::SeqCst) & (1 << line) != 0;
    if was {
        unmask(line);
    }
    was
}

/// Halts the CPU until an interrupt, or `ns` from now at most (the PIT's one-shot: at most
/// its 55 ms, after which the caller halts again if nothing is due).
pub(crate) fn halt(ns: u64) {
    let ticks = (u128::from(ns) * u128::from(PIT_HZ) / 1_000_000_000).clamp(1, 0xffff) as u16;
    outb(0x43, 0b0011_0000); // channel 0, low then high byte, mode 0 (one shot)
    outb(0x40, ticks as u8);
    outb(0x40, (ticks >> 8) as u8);
    // SAFETY: `sti` takes effect after `hlt`, so an interrupt already waiting ends the halt
    // rather than being taken before it; the handlers run only here and may clobber what
    // the C ABI lets a call clobber.
    unsafe { core::arch::asm!("sti", "hlt", "cli", clobber_abi("C")) };
}

/// A line interrupted (from the assembly stubs): noted, masked until taken (the timer's
/// needs no taking), and acknowledged to the PIC.
#[unsafe(no_mangle)]
extern "C" fn mirage_virtio_line(line: u32) {
    let line = line as u8;
    if line != TIMER {
        PENDING.fetch_or(1 << line, Ordering::SeqCst);
        write_mask(MASK.load(Ordering::SeqCst) | (1 << line));
    }
    if line >= 8 {
        outb(0xa0, 0x20);
    }
    outb(0x20, 0x20);
    let _ = inb(0x21); // the acknowledgement reaches the PIC before the return
}

/// The names of the exceptions.
const FAULTS: [&str; 22] = [
    "divide error",
    "debug",
    "non-maskable interrupt",
    "breakpoint",
    "overflow",
    "bound range exceeded",
    "invalid opcode",
    "device not available",
    "double fault",
    "coprocessor segment overrun",
    "invalid TSS",
    "segment not present",
    "stack-segment fault",
    "general protection fault",
    "page fault",
    "reserved",
    "x87 floating-point error",
    "alignment check",
    "machine check",
    "SIMD floating-point error",
    "virtualization exception",
    "control protection exception",
];

/// An exception (from the assembly stubs): the kernel ends, saying which and where.
#[unsafe(no_mangle)]
extern "C" fn mirage_virtio_fault(vector: u64, error: u64, at: u64) -> ! {
    let name = FAULTS.get(vector as usize).copied().unwrap_or("exception");
    let address = if vector == 14 {
        let cr2: u64;
        // SAFETY: reading CR2 (the faulting address) has no side effects.
        unsafe { core::arch::asm!("mov {}, cr2", out(reg) cr2, options(nomem, nostack)) };
        cr2
    } else {
        0
    };
    panic!("{name} (vector {vector}, error code {error:#x}) at {at:#x}, address {address:#x}");
}
