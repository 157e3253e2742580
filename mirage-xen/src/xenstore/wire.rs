//! Encoding requests and reading messages.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::abi::xs_wire::{XENSTORE_PAYLOAD_MAX, XsdSockmsg};
use crate::platform::XenError;

/// One message: its header and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Message {
    pub(crate) header: XsdSockmsg,
    pub(crate) payload: Vec<u8>,
}

/// A request's bytes: the header and the payload `parts`, each followed by a NUL except
/// the last when `last_nul` is false (a WRITE's value).
pub(crate) fn request(
    kind: u32,
    req_id: u32,
    tx_id: u32,
    parts: &[&[u8]],
    last_nul: bool,
) -> Result<Vec<u8>, XenError> {
    let mut payload = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        payload.extend_from_slice(part);
        if i + 1 < parts.len() || last_nul {
            payload.push(0);
        }
    }
    if payload.len() > XENSTORE_PAYLOAD_MAX {
        return Err(XenError::Store("E2BIG".into()));
    }
    let header = XsdSockmsg {
        kind,
        req_id,
        tx_id,
        len: payload.len() as u32,
    };
    let mut out = header.to_bytes().to_vec();
    out.extend_from_slice(&payload);
    Ok(out)
}

/// Takes one whole message off the front of `buffer`, if there is one. A length beyond the
/// protocol's limit is an error (the peer is broken).
pub(crate) fn take(buffer: &mut Vec<u8>) -> Result<Option<Message>, XenError> {
    if buffer.len() < 16 {
        return Ok(None);
    }
    let header = XsdSockmsg::from_bytes(buffer[..16].try_into().expect("16 bytes"));
    let len = header.len as usize;
    if len > XENSTORE_PAYLOAD_MAX {
        return Err(XenError::Other(format!(
            "xenstore sent a message of {len} bytes (at most {XENSTORE_PAYLOAD_MAX})"
        )));
    }
    if buffer.len() < 16 + len {
        return Ok(None);
    }
    let payload = buffer[16..16 + len].to_vec();
    buffer.drain(..16 + len);
    Ok(Some(Message { header, payload }))
}

/// The NUL-separated strings of a payload (a trailing NUL ends the last, not a new one).
pub(crate) fn strings(payload: &[u8]) -> Vec<String> {
    let trimmed = payload.strip_suffix(&[0]).unwrap_or(payload);
    if trimmed.is_empty() {
        return Vec::new();
    }
    trimmed
        .split(|&b| b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// The error an `XS_ERROR` reply names.
pub(crate) fn error(payload: &[u8], path: &str) -> XenError {
    let name = strings(payload).into_iter().next().unwrap_or_default();
    match name.as_str() {
        "ENOENT" => XenError::NotFound(path.to_owned()),
        "EACCES" | "EPERM" => XenError::PermissionDenied(path.to_owned()),
        "EAGAIN" => XenError::Again,
        _ => XenError::Store(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_as_captured_on_the_wire() {
        let bytes = request(11, 0x65, 0, &[b"/mirage/a", b"value-a"], false).unwrap();
        assert_eq!(
            &bytes[..16],
            &[0x0b, 0, 0, 0, 0x65, 0, 0, 0, 0, 0, 0, 0, 0x11, 0, 0, 0]
        );
        assert_eq!(&bytes[16..], b"/mirage/a\0value-a");
        let mut buffer = bytes.clone();
        buffer.extend_from_slice(&bytes[..10]);
        let message = take(&mut buffer).unwrap().unwrap();
        assert_eq!(message.payload, b"/mirage/a\0value-a");
        assert_eq!(buffer.len(), 10);
        assert_eq!(take(&mut buffer).unwrap(), None);
    }

    #[test]
    fn strings_and_errors() {
        assert_eq!(strings(b"a\0b\0"), ["a", "b"]);
        assert_eq!(strings(b""), Vec::<String>::new());
        assert_eq!(error(b"ENOENT\0", "/x"), XenError::NotFound("/x".into()));
        assert_eq!(error(b"EAGAIN\0", "/x"), XenError::Again);
        let mut huge = XsdSockmsg {
            kind: 2,
            req_id: 0,
            tx_id: 0,
            len: 1 << 20,
        }
        .to_bytes()
        .to_vec();
        huge.extend_from_slice(&[0; 8]);
        assert!(take(&mut huge).is_err());
        assert!(request(2, 0, 0, &[&[b'a'; 5000]], true).is_err());
    }
}
