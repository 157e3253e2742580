//! `Random` from the CPU's RDRAND instruction (x86-64), the random source of every
//! platform on that architecture.

/// V1's `RANDOM` from RDRAND.
#[derive(Debug, Clone, Copy)]
pub struct Rdrand(());

/// Why there is no random source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoRdrand;

impl core::fmt::Display for NoRdrand {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("this CPU has no RDRAND instruction (CPUID.1:ECX bit 30): no random source")
    }
}

impl Rdrand {
    /// The source, if the CPU has RDRAND.
    pub fn new() -> Result<Self, NoRdrand> {
        let ecx = core::arch::x86_64::__cpuid(1).ecx;
        if ecx & (1 << 30) != 0 {
            Ok(Rdrand(()))
        } else {
            Err(NoRdrand)
        }
    }

    fn next(&self) -> u64 {
        loop {
            let value: u64;
            let ok: u8;
            // SAFETY: RDRAND exists (checked in `new`); it sets CF when the value is good.
            unsafe {
                core::arch::asm!(
                    "rdrand {value}",
                    "setc {ok}",
                    value = out(reg) value,
                    ok = out(reg_byte) ok,
                    options(nomem, nostack)
                );
            }
            if ok == 1 {
                return value;
            }
        }
    }
}

impl mirage_types::Random for Rdrand {
    /// RDRAND reseeds itself in hardware: nothing to do.
    fn self_init(&self) {}

    fn fill_bytes(&self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let value = self.next().to_le_bytes();
            chunk.copy_from_slice(&value[..chunk.len()]);
        }
    }
}
