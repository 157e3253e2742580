//! Grants from a Linux process: pages shared with `/dev/xen/gntalloc`, foreign pages mapped
//! with `/dev/xen/gntdev`.

#[allow(unused_imports)]
use crate::prelude::*;

use super::ioctl::{
    self, GntallocAlloc, GntallocDealloc, GntdevCopySegment, GntdevGrantCopy, GntdevMap,
    GntdevUnmap,
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

/// Pages another domain granted, mapped into this process together (gntdev: one ioctl,
/// one `mmap`): unmapped when the last of their [`LinuxMapping`]s is dropped.
struct MappedRegion {
    device: Rc<OwnedFd>,
    index: u64,
    count: usize,
    base: *mut u8,
}

impl Drop for MappedRegion {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `map_all`, used by nothing once this is dropped.
        unsafe { libc::munmap(self.base.cast(), self.count * PAGE_SIZE) };
        unmap(&self.device, self.index, self.count);
    }
}

/// A page another domain granted, mapped into this process (gntdev): unmapped when dropped
/// (with the pages mapped in the same batch, once all of them are).
pub struct LinuxMapping {
    region: Rc<MappedRegion>,
    page: *mut u8,
}

/// Maps `grefs` of `domain`, one mapping per grant, with one ioctl and one `mmap`.
pub(crate) fn map_all(
    device: &Rc<OwnedFd>,
    domain: DomId,
    grefs: &[GrantRef],
    writable: bool,
) -> Result<Vec<LinuxMapping>, XenError> {
    if grefs.is_empty() {
        return Ok(Vec::new());
    }
    // `struct ioctl_gntdev_map_grant_ref` with `count` references: its header (count, pad,
    // index) in the first two u64 words, then the references, two u32 each.
    let mut request = vec![0u64; 2 + grefs.len()];
    request[0] = grefs.len() as u64;
    for (slot, &gref) in request[2..].iter_mut().zip(grefs) {
        *slot = u64::from(domain) | (u64::from(gref) << 32);
    }
    const _: () = assert!(core::mem::size_of::<GntdevMap>() == 24);
    // SAFETY: `request` is laid out as the structure the ioctl takes (checked against
    // GntdevMap, whose single reference is the first of ours), alive for the call.
    let header = unsafe { &mut *request.as_mut_ptr().cast::<GntdevMap>() };
    ioctl::call(
        device,
        ioctl::GNTDEV_MAP_GRANT_REF,
        header,
        "mapping grants (/dev/xen/gntdev)",
    )?;
    let index = header.index;
    // The grants are mapped by the mmap itself: a bad reference fails here.
    let what = || format!("mapping grants {grefs:?} of domain {domain}");
    let base = match ioctl::map_pages(device, index, grefs.len(), writable, what) {
        Ok(base) => base,
        Err(error) => {
            unmap(device, index, grefs.len());
            return Err(error);
        }
    };
    let region = Rc::new(MappedRegion {
        device: device.clone(),
        index,
        count: grefs.len(),
        base,
    });
    Ok((0..grefs.len())
        .map(|n| LinuxMapping {
            region: region.clone(),
            page: base.wrapping_add(n * PAGE_SIZE),
        })
        .collect())
}

fn unmap(device: &OwnedFd, index: u64, count: usize) {
    let mut unmap = GntdevUnmap {
        index,
        count: count as u32,
        pad: 0,
    };
    let _ = ioctl::call(device, ioctl::GNTDEV_UNMAP_GRANT_REF, &mut unmap, "");
}

// SAFETY: a page mapped for as long as the value lives (it holds its region).
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
            .field("index", &self.region.index)
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
