//! The console ring (`io/console.h`): two byte rings in one page.

/// Bytes of the input ring (backend to guest).
pub const XENCONS_IN_SIZE: usize = 1024;
/// Bytes of the output ring (guest to backend).
pub const XENCONS_OUT_SIZE: usize = 2048;

/// `struct xencons_interface`, at the start of the console page.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct XenconsInterface {
    /// Input bytes.
    pub input: [u8; XENCONS_IN_SIZE],
    /// Output bytes.
    pub output: [u8; XENCONS_OUT_SIZE],
    /// The guest's input consumer index.
    pub in_cons: u32,
    /// The backend's input producer index.
    pub in_prod: u32,
    /// The backend's output consumer index.
    pub out_cons: u32,
    /// The guest's output producer index.
    pub out_prod: u32,
}

const _: () = assert!(core::mem::size_of::<XenconsInterface>() == 3088);
