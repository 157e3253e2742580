//! What Xen hands a PV guest at entry (`struct start_info`, xen.h; 1,168 bytes).

/// `struct start_info` of 64-bit PV.
#[repr(C)]
pub struct StartInfo {
    /// `"xen-<version>-<platform>"`.
    pub magic: [u8; 32],
    /// Pages the domain has.
    pub nr_pages: u64,
    /// Machine address of the shared-info page.
    pub shared_info: u64,
    /// `SIF_*` flags.
    pub flags: u32,
    _pad0: u32,
    /// Machine frame of the xenstore ring page.
    pub store_mfn: u64,
    /// Event channel of the xenstore ring.
    pub store_evtchn: u32,
    _pad1: u32,
    /// Machine frame of the console ring page.
    pub console_mfn: u64,
    /// Event channel of the console ring.
    pub console_evtchn: u32,
    _pad2: u32,
    /// Virtual address of the bootstrap page tables.
    pub pt_base: u64,
    /// How many page-table frames there are.
    pub nr_pt_frames: u64,
    /// Virtual address of the pfn-to-mfn list.
    pub mfn_list: u64,
    /// Virtual address of the ramdisk, if any.
    pub mod_start: u64,
    /// Its length.
    pub mod_len: u64,
    /// The command line (`extra =` in the `.xl`), NUL-terminated.
    pub cmd_line: [u8; 1024],
    /// First pfn of the p2m list, when Xen did not map it.
    pub first_p2m_pfn: u64,
    /// How many frames it has.
    pub nr_p2m_frames: u64,
}

const _: () = assert!(core::mem::size_of::<StartInfo>() == 1168);
const _: () = assert!(core::mem::offset_of!(StartInfo, store_mfn) == 56);
const _: () = assert!(core::mem::offset_of!(StartInfo, console_mfn) == 72);
const _: () = assert!(core::mem::offset_of!(StartInfo, mfn_list) == 104);
const _: () = assert!(core::mem::offset_of!(StartInfo, cmd_line) == 128);

impl StartInfo {
    /// The command line, up to its NUL.
    pub fn command_line(&self) -> &str {
        let end = self
            .cmd_line
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.cmd_line.len());
        core::str::from_utf8(&self.cmd_line[..end]).unwrap_or("")
    }
}

impl core::fmt::Debug for StartInfo {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let magic_end = self.magic.iter().position(|&b| b == 0).unwrap_or(32);
        f.debug_struct("StartInfo")
            .field(
                "magic",
                &core::str::from_utf8(&self.magic[..magic_end]).unwrap_or("?"),
            )
            .field("nr_pages", &self.nr_pages)
            .field("flags", &self.flags)
            .field("store_evtchn", &self.store_evtchn)
            .field("console_evtchn", &self.console_evtchn)
            .field("cmd_line", &self.command_line())
            .finish_non_exhaustive()
    }
}
