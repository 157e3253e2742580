//! COM1, the 16550 UART at port 0x3f8: the kernel's console (QEMU's `-serial`, libvirt's
//! `<serial>`), at 115200 baud, 8N1, its receive interrupt on IRQ 4.

use crate::port::{inb, outb};

const COM1: u16 = 0x3f8;
/// Data (read: received, write: to send).
const DATA: u16 = COM1;
const INTERRUPT_ENABLE: u16 = COM1 + 1;
const FIFO_CONTROL: u16 = COM1 + 2;
const LINE_CONTROL: u16 = COM1 + 3;
const MODEM_CONTROL: u16 = COM1 + 4;
const LINE_STATUS: u16 = COM1 + 5;

/// The interrupt line of COM1.
pub const IRQ: u8 = 4;

/// Sets the line up: 115200 baud, 8N1, FIFOs on, an interrupt when a byte arrives.
pub(crate) fn init() {
    outb(INTERRUPT_ENABLE, 0);
    outb(LINE_CONTROL, 0x80); // the divisor follows
    outb(DATA, 1); // 115200 / 1
    outb(INTERRUPT_ENABLE, 0);
    outb(LINE_CONTROL, 0x03); // 8 bits, no parity, one stop bit
    outb(FIFO_CONTROL, 0xc7); // FIFOs on and cleared, 14-byte threshold
    outb(MODEM_CONTROL, 0x0b); // DTR, RTS, OUT2 (which lets the interrupt out)
    outb(INTERRUPT_ENABLE, 0x01); // received data available
}

/// Writes `bytes`, waiting for the transmitter before each.
pub(crate) fn write(bytes: &[u8]) {
    for &byte in bytes {
        let mut spins = 0u32;
        while inb(LINE_STATUS) & 0x20 == 0 && spins < 1_000_000 {
            spins += 1;
            core::hint::spin_loop();
        }
        outb(DATA, byte);
    }
}

/// The bytes received and not yet read, appended to `into`.
pub(crate) fn read_available(into: &mut alloc::vec::Vec<u8>) {
    while inb(LINE_STATUS) & 0x01 != 0 {
        into.push(inb(DATA));
    }
}
