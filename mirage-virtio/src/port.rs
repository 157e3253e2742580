//! x86 I/O ports: the serial line, the PIT, the PIC, the RTC, PCI configuration space,
//! QEMU's exit device and ACPI's power-off register are all reached through them.

/// Reads a byte from `port`.
pub fn inb(port: u16) -> u8 {
    let value: u8;
    // SAFETY: `in` from an I/O port reads a device register; the kernel runs in ring 0.
    unsafe {
        core::arch::asm!("in al, dx", in("dx") port, out("al") value, options(nomem, nostack, preserves_flags))
    };
    value
}

/// Writes a byte to `port`.
pub fn outb(port: u16, value: u8) {
    // SAFETY: as `inb`; what the write does is the caller's concern (a device register).
    unsafe {
        core::arch::asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags))
    };
}

/// Writes a 16-bit word to `port`.
pub fn outw(port: u16, value: u16) {
    // SAFETY: as `outb`.
    unsafe {
        core::arch::asm!("out dx, ax", in("dx") port, in("ax") value, options(nomem, nostack, preserves_flags))
    };
}

/// Reads a 32-bit word from `port`.
pub fn inl(port: u16) -> u32 {
    let value: u32;
    // SAFETY: as `inb`.
    unsafe {
        core::arch::asm!("in eax, dx", in("dx") port, out("eax") value, options(nomem, nostack, preserves_flags))
    };
    value
}

/// Writes a 32-bit word to `port`.
pub fn outl(port: u16, value: u32) {
    // SAFETY: as `outb`.
    unsafe {
        core::arch::asm!("out dx, eax", in("dx") port, in("eax") value, options(nomem, nostack, preserves_flags))
    };
}
