//! The console ring (`io/console.h`): two byte rings in one page.

#[allow(unused_imports)]
use crate::prelude::*;

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

/// The output ring (guest to backend) of a console page.
pub const OUTPUT: crate::ring::ByteRing = crate::ring::ByteRing {
    data: 1024,
    size: XENCONS_OUT_SIZE,
    cons: 3080,
    prod: 3084,
};

/// The input ring (backend to guest) of a console page.
pub const INPUT: crate::ring::ByteRing = crate::ring::ByteRing {
    data: 0,
    size: XENCONS_IN_SIZE,
    cons: 3072,
    prod: 3076,
};

const _: () = assert!(core::mem::offset_of!(XenconsInterface, output) == OUTPUT.data);
const _: () = assert!(core::mem::offset_of!(XenconsInterface, out_cons) == OUTPUT.cons);
const _: () = assert!(core::mem::offset_of!(XenconsInterface, out_prod) == OUTPUT.prod);
const _: () = assert!(core::mem::offset_of!(XenconsInterface, in_cons) == INPUT.cons);
const _: () = assert!(core::mem::offset_of!(XenconsInterface, in_prod) == INPUT.prod);
