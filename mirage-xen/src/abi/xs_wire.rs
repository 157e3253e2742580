//! The xenstore protocol (`io/xs_wire.h`): message header, message types, the guest ring.

#[allow(unused_imports)]
use crate::prelude::*;

/// The header of every xenstore message, followed by `len` payload bytes.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct XsdSockmsg {
    /// `XS_*`.
    pub kind: u32,
    /// Echoed in the reply.
    pub req_id: u32,
    /// The transaction, 0 for none.
    pub tx_id: u32,
    /// Payload bytes that follow.
    pub len: u32,
}

impl XsdSockmsg {
    /// The header's 16 bytes, little-endian.
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        for (i, word) in [self.kind, self.req_id, self.tx_id, self.len]
            .iter()
            .enumerate()
        {
            out[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
        }
        out
    }

    /// A header from 16 bytes.
    pub fn from_bytes(bytes: &[u8; 16]) -> XsdSockmsg {
        let word =
            |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        XsdSockmsg {
            kind: word(0),
            req_id: word(4),
            tx_id: word(8),
            len: word(12),
        }
    }
}

/// Message types (`enum xsd_sockmsg_type`).
#[allow(missing_docs)]
pub mod kind {
    pub const XS_CONTROL: u32 = 0;
    pub const XS_DIRECTORY: u32 = 1;
    pub const XS_READ: u32 = 2;
    pub const XS_GET_PERMS: u32 = 3;
    pub const XS_WATCH: u32 = 4;
    pub const XS_UNWATCH: u32 = 5;
    pub const XS_TRANSACTION_START: u32 = 6;
    pub const XS_TRANSACTION_END: u32 = 7;
    pub const XS_INTRODUCE: u32 = 8;
    pub const XS_RELEASE: u32 = 9;
    pub const XS_GET_DOMAIN_PATH: u32 = 10;
    pub const XS_WRITE: u32 = 11;
    pub const XS_MKDIR: u32 = 12;
    pub const XS_RM: u32 = 13;
    pub const XS_SET_PERMS: u32 = 14;
    pub const XS_WATCH_EVENT: u32 = 15;
    pub const XS_ERROR: u32 = 16;
    pub const XS_IS_DOMAIN_INTRODUCED: u32 = 17;
    pub const XS_RESUME: u32 = 18;
    pub const XS_SET_TARGET: u32 = 19;
    pub const XS_RESET_WATCHES: u32 = 21;
    pub const XS_DIRECTORY_PART: u32 = 22;
}

/// The largest payload of one message.
pub const XENSTORE_PAYLOAD_MAX: usize = 4096;
/// The longest absolute path.
pub const XENSTORE_ABS_PATH_MAX: usize = 3072;
/// Bytes of each of the guest ring's two byte rings.
pub const XENSTORE_RING_SIZE: usize = 1024;

/// `struct xenstore_domain_interface`: the guest's xenstore page.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct XenstoreDomainInterface {
    /// Requests, guest to xenstored.
    pub req: [u8; XENSTORE_RING_SIZE],
    /// Replies and watch events, xenstored to guest.
    pub rsp: [u8; XENSTORE_RING_SIZE],
    /// xenstored's request consumer index.
    pub req_cons: u32,
    /// The guest's request producer index.
    pub req_prod: u32,
    /// The guest's reply consumer index.
    pub rsp_cons: u32,
    /// xenstored's reply producer index.
    pub rsp_prod: u32,
    /// Features the server offers.
    pub server_features: u32,
    /// The connection state.
    pub connection: u32,
    /// An error the server reports.
    pub error: u32,
}

const _: () = assert!(core::mem::size_of::<XsdSockmsg>() == 16);
const _: () = assert!(core::mem::size_of::<XenstoreDomainInterface>() == 2076);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_little_endian_words() {
        // WRITE "/mirage/a" "value-a", req_id 0x65: as captured on the wire.
        let header = XsdSockmsg {
            kind: kind::XS_WRITE,
            req_id: 0x65,
            tx_id: 0,
            len: 0x11,
        };
        let bytes = header.to_bytes();
        assert_eq!(
            bytes,
            [0x0b, 0, 0, 0, 0x65, 0, 0, 0, 0, 0, 0, 0, 0x11, 0, 0, 0]
        );
        assert_eq!(XsdSockmsg::from_bytes(&bytes), header);
    }
}
