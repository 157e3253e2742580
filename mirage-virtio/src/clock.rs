//! Time: the TSC, calibrated at boot against the PIT's fixed 1.193182 MHz (channel 2,
//! which needs no interrupt), is the monotonic clock; the wall clock is the CMOS RTC read
//! at boot plus the time since.

use crate::port::{inb, outb};
use core::sync::atomic::{AtomicU64, Ordering};

/// The PIT's input clock, in Hz.
pub(crate) const PIT_HZ: u64 = 1_193_182;
/// How long the calibration counts (10 ms: 11,932 PIT ticks).
const CALIBRATION_TICKS: u16 = 11_932;

/// TSC ticks per second, and the TSC at the clock's origin (the first instruction).
static TSC_HZ: AtomicU64 = AtomicU64::new(0);
static TSC_ORIGIN: AtomicU64 = AtomicU64::new(0);
/// Nanoseconds since the epoch at the clock's origin.
static WALL_AT_ORIGIN: AtomicU64 = AtomicU64::new(0);

fn rdtsc() -> u64 {
    // SAFETY: rdtsc has no preconditions.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Measures the TSC's rate against PIT channel 2 and reads the RTC; once, at boot.
pub(crate) fn init(origin_tsc: u64) {
    // Channel 2's gate on, the speaker off; mode 0 (count down once), binary.
    outb(0x61, (inb(0x61) & !0x02) | 0x01);
    outb(0x43, 0b1011_0000);
    outb(0x42, CALIBRATION_TICKS as u8);
    outb(0x42, (CALIBRATION_TICKS >> 8) as u8);
    let start = rdtsc();
    // OUT2 (bit 5 of port 0x61) goes high when the count reaches zero.
    while inb(0x61) & 0x20 == 0 {
        core::hint::spin_loop();
    }
    let ticks = rdtsc() - start;
    let hz = ticks * PIT_HZ / u64::from(CALIBRATION_TICKS);
    TSC_HZ.store(hz.max(1), Ordering::Relaxed);
    TSC_ORIGIN.store(origin_tsc, Ordering::Relaxed);
    let wall = rtc_unix_seconds().saturating_mul(1_000_000_000);
    WALL_AT_ORIGIN.store(wall.saturating_sub(monotonic_ns()), Ordering::Relaxed);
}

/// TSC ticks per second, as calibrated.
pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// Nanoseconds since the kernel's first instruction.
pub(crate) fn monotonic_ns() -> u64 {
    let hz = TSC_HZ.load(Ordering::Relaxed);
    if hz == 0 {
        return 0;
    }
    let ticks = rdtsc().saturating_sub(TSC_ORIGIN.load(Ordering::Relaxed));
    (u128::from(ticks) * 1_000_000_000 / u128::from(hz)) as u64
}

/// Nanoseconds since the Unix epoch.
pub(crate) fn wall_ns() -> u64 {
    WALL_AT_ORIGIN
        .load(Ordering::Relaxed)
        .saturating_add(monotonic_ns())
}

/// Reads CMOS register `index`.
fn cmos(index: u8) -> u8 {
    outb(0x70, index);
    inb(0x71)
}

/// The RTC's date and time as seconds since the epoch (it keeps UTC under QEMU), read
/// twice until two readings agree (it may tick during one).
fn rtc_unix_seconds() -> u64 {
    let read = || {
        while cmos(0x0a) & 0x80 != 0 {
            core::hint::spin_loop(); // an update is under way
        }
        [0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x32].map(cmos)
    };
    let mut now = read();
    for _ in 0..5 {
        let again = read();
        if again == now {
            break;
        }
        now = again;
    }
    let status_b = cmos(0x0b);
    let binary = |value: u8| {
        if status_b & 0x04 != 0 {
            u64::from(value)
        } else {
            u64::from((value & 0x0f) + (value >> 4) * 10)
        }
    };
    let [second, minute, hour, day, month, year, century] = now;
    let hour = if status_b & 0x02 == 0 && hour & 0x80 != 0 {
        (binary(hour & 0x7f) + 12) % 24 // a 12-hour clock's PM
    } else {
        binary(hour & 0x7f)
    };
    let century = match binary(century) {
        0 => 20,
        c => c,
    };
    let year = century * 100 + binary(year);
    days_from_civil(year, binary(month), binary(day)) * 86_400
        + hour * 3600
        + binary(minute) * 60
        + binary(second)
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's
/// algorithm; dates before 1970 give 0).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let (year, month) = if month <= 2 {
        (year.saturating_sub(1), month + 9)
    } else {
        (year, month.saturating_sub(3))
    };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let day_of_year = (153 * month + 2) / 5 + day.saturating_sub(1);
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    (era * 146_097 + day_of_era).saturating_sub(719_468)
}
