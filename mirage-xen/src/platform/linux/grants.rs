//! Grants from a Linux process: pages shared with `/dev/xen/gntalloc`, foreign pages mapped
//! with `/dev/xen/gntdev`.

#[allow(unused_imports)]
use crate::prelude::*;

use super::ioctl::{
    self, GntallocAlloc, GntallocDealloc, GntdevCopySegment, GntdevGrantCopy, GntdevGrantRef,
    GntdevMap, GntdevUnmap,
};
use crate::abi::{DomId, GrantRef, PAGE_SIZE};
use crate::platform::{Grant, GrantPiece, XenError};
use crate::ring::SharedMemory;
use std::os::fd::OwnedFd;
use std::rc::Rc;

/// A page of this process granted to another domain (gntalloc): the grant ends when dropped
/// (Linux ends it once the peer has unmapped it too).
pub struct LinuxGrant {
    device: Rc<OwnedFd>,
    index: u64,
    gref: GrantRef,
    page: *mut u8,
}

pub(crate) fn share(
    device: &Rc<OwnedFd>,
    domain: DomId,
    readonly: bool,
) -> Result<LinuxGrant, XenError> {
    let mut alloc = GntallocAlloc {
        domid: domain,
        flags: if readonly {
            0
        } else {
            ioctl::GNTALLOC_FLAG_WRITABLE
        },
        count: 1,
        index: 0,
        gref_ids: [0],
    };
    ioctl::call(
        device,
        ioctl::GNTALLOC_ALLOC_GREF,
        &mut alloc,
        "granting a page (/dev/xen/gntalloc)",
    )?;
    let page = match ioctl::map_pages(device, alloc.index, 1, true, || {
        "mapping a granted page".into()
    }) {
        Ok(page) => page,
        Err(error) => {
            dealloc(device, alloc.index);
            return Err(error);
        }
    };
    Ok(LinuxGrant {
        device: device.clone(),
        index: alloc.index,
        gref: alloc.gref_ids[0],
        page,
    })
}

fn dealloc(device: &OwnedFd, index: u64) {
    let mut dealloc = GntallocDealloc { index, count: 1 };
    let _ = ioctl::call(device, ioctl::GNTALLOC_DEALLOC_GREF, &mut dealloc, "");
}

// SAFETY: a page mapped for as long as the value lives.
unsafe impl SharedMemory for LinuxGrant {
    fn as_ptr(&self) -> *mut u8 {
        self.page
    }

    fn len(&self) -> usize {
        PAGE_SIZE
    }
}

impl Grant for LinuxGrant {
    fn gref(&self) -> GrantRef {
        self.gref
    }
}

impl Drop for LinuxGrant {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `share`, used by nothing once this is dropped.
        unsafe { libc::munmap(self.page.cast(), PAGE_SIZE) };
        dealloc(&self.device, self.index);
    }
}

/// A page another domain granted, mapped into this process (gntdev): unmapped when dropped.
pub struct LinuxMapping {
    device: Rc<OwnedFd>,
    index: u64,
    page: *mut u8,
}

/// Maps grant `gref` of `domain` (backends map only the rings; data is copied).
pub(crate) fn map(
    device: &Rc<OwnedFd>,
    domain: DomId,
    gref: GrantRef,
    writable: bool,
) -> Result<LinuxMapping, XenError> {
    let mut request = GntdevMap {
        count: 1,
        pad: 0,
        index: 0,
        refs: [GntdevGrantRef {
            domid: domain.into(),
            gref,
        }],
    };
    ioctl::call(
        device,
        ioctl::GNTDEV_MAP_GRANT_REF,
        &mut request,
        "mapping a grant (/dev/xen/gntdev)",
    )?;
    // The grant is mapped by the mmap itself: a bad reference fails here.
    let what = || format!("mapping grant {gref} of domain {domain}");
    let page = match ioctl::map_pages(device, request.index, 1, writable, what) {
        Ok(page) => page,
        Err(error) => {
            unmap(device, request.index);
            return Err(error);
        }
    };
    Ok(LinuxMapping {
        device: device.clone(),
        index: request.index,
        page,
    })
}

impl Drop for LinuxMapping {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `map`, used by nothing once this is dropped.
        unsafe { libc::munmap(self.page.cast(), PAGE_SIZE) };
        unmap(&self.device, self.index);
    }
}

fn unmap(device: &OwnedFd, index: u64) {
    let mut unmap = GntdevUnmap {
        index,
        count: 1,
        pad: 0,
    };
    let _ = ioctl::call(device, ioctl::GNTDEV_UNMAP_GRANT_REF, &mut unmap, "");
}

// SAFETY: a page mapped for as long as the value lives.
unsafe impl SharedMemory for LinuxMapping {
    fn as_ptr(&self) -> *mut u8 {
        self.page
    }

    fn len(&self) -> usize {
        PAGE_SIZE
    }
}

impl core::fmt::Debug for LinuxMapping {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LinuxMapping")
            .field("index", &self.index)
            .field("page", &self.page)
            .finish()
    }
}

/// Copies between `buffer` and `pieces` of `domain`'s grants with one gntdev grant-copy
/// ioctl (the hypervisor copies; nothing is mapped here): into the grants if `to_grants`,
/// out of them otherwise. The caller has checked that `buffer` is as long as the pieces.
pub(crate) fn copy(
    device: &OwnedFd,
    domain: DomId,
    pieces: &[GrantPiece],
    buffer: *mut u8,
    to_grants: bool,
) -> Result<(), XenError> {
    let mut at = 0usize;
    let mut segments: Vec<GntdevCopySegment> = pieces
        .iter()
        .map(|piece| {
            let foreign =
                u64::from(piece.gref) | (u64::from(piece.offset) << 32) | (u64::from(domain) << 48);
            let local = buffer.wrapping_add(at) as u64;
            at += usize::from(piece.len);
            let (source, dest, flags) = if to_grants {
                (local, foreign, ioctl::GNTCOPY_DEST_GREF)
            } else {
                (foreign, local, ioctl::GNTCOPY_SOURCE_GREF)
            };
            GntdevCopySegment {
                source,
                dest,
                len: piece.len,
                flags,
                status: 0,
            }
        })
        .collect();
    let mut request = GntdevGrantCopy {
        count: segments.len() as u32,
        segments: segments.as_mut_ptr(),
    };
    ioctl::call(
        device,
        ioctl::GNTDEV_GRANT_COPY,
        &mut request,
        "copying grants (/dev/xen/gntdev)",
    )?;
    match segments.iter().zip(pieces).find(|(s, _)| s.status != 0) {
        None => Ok(()),
        Some((segment, piece)) => Err(XenError::PermissionDenied(format!(
            "copying grant {} of domain {domain}: Xen's status {}",
            piece.gref, segment.status
        ))),
    }
}
