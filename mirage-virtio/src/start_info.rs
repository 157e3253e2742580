//! What QEMU's PVH loader hands the kernel: `struct hvm_start_info` (Xen's
//! `arch-x86/hvm/start_info.h`, which QEMU follows), with the command line (`-append`), the
//! ACPI tables' root and the memory map.

/// `hvm_start_info.magic`.
const MAGIC: u32 = 0x336e_c578;
/// A memory map entry's type for usable RAM.
const RAM: u32 = 1;

#[repr(C)]
struct HvmStartInfo {
    magic: u32,
    version: u32,
    flags: u32,
    nr_modules: u32,
    modlist_paddr: u64,
    cmdline_paddr: u64,
    rsdp_paddr: u64,
    memmap_paddr: u64,
    memmap_entries: u32,
    reserved: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct MemmapEntry {
    addr: u64,
    size: u64,
    kind: u32,
    reserved: u32,
}

/// The longest command line kept.
const COMMAND_LINE: usize = 4096;

/// What the kernel keeps of the start info (copied at boot, before the heap may cover
/// where QEMU put it).
pub(crate) struct StartInfo {
    command_line: [u8; COMMAND_LINE],
    command_line_len: usize,
    /// The ACPI root (RSDP), if given.
    pub(crate) rsdp: Option<usize>,
    /// The largest RAM region below 4 GiB (the mapped part) above `floor`.
    pub(crate) ram: Option<(usize, usize)>,
}

impl StartInfo {
    /// Reads the start info at physical address `at`; the RAM region starts at `floor` or
    /// above (the kernel's end). An error says what is wrong with it.
    ///
    /// # Safety
    ///
    /// `at` is where QEMU put the start info; memory is mapped one to one.
    pub(crate) unsafe fn read(at: usize, floor: usize) -> Result<StartInfo, &'static str> {
        // SAFETY: as the caller vouches; read without assuming alignment.
        let info = unsafe { core::ptr::read_unaligned(at as *const HvmStartInfo) };
        if info.magic != MAGIC {
            return Err("no PVH start info (was the kernel booted by QEMU's -kernel?)");
        }
        let mut kept = StartInfo {
            command_line: [0; COMMAND_LINE],
            command_line_len: 0,
            rsdp: (info.rsdp_paddr != 0).then_some(info.rsdp_paddr as usize),
            ram: None,
        };
        if info.cmdline_paddr != 0 {
            let line = info.cmdline_paddr as *const u8;
            // SAFETY: a NUL-terminated string QEMU wrote, read up to our buffer's size.
            while kept.command_line_len < COMMAND_LINE - 1 {
                let byte = unsafe { line.add(kept.command_line_len).read() };
                if byte == 0 {
                    break;
                }
                kept.command_line[kept.command_line_len] = byte;
                kept.command_line_len += 1;
            }
        }
        if info.version < 1 || info.memmap_paddr == 0 {
            return Err("the PVH start info has no memory map (version 1 is needed)");
        }
        const MAPPED: u64 = 4 << 30;
        for i in 0..info.memmap_entries as usize {
            // SAFETY: `memmap_entries` entries at `memmap_paddr`, as QEMU wrote them.
            let entry = unsafe {
                core::ptr::read_unaligned((info.memmap_paddr as *const MemmapEntry).add(i))
            };
            if entry.kind != RAM {
                continue;
            }
            let start = entry.addr.max(floor as u64);
            let end = entry.addr.saturating_add(entry.size).min(MAPPED);
            if end > start && kept.ram.is_none_or(|(s, e)| (end - start) as usize > e - s) {
                kept.ram = Some((start as usize, end as usize));
            }
        }
        Ok(kept)
    }

    /// The command line (QEMU's `-append`), or "" when it is not UTF-8.
    pub(crate) fn command_line(&self) -> &str {
        core::str::from_utf8(&self.command_line[..self.command_line_len]).unwrap_or("")
    }
}
