//! A redo journal that makes one `FatFs` transaction reach the device whole or not at all.
//!
//! A transaction's sectors are first written, with a table of where each belongs and a
//! checksum over both, into a file the journal owns; the device is flushed; then the sectors
//! are written in place and the device flushed again; then the journal's header is cleared
//! (and flushed). A crash before the journal is complete leaves the checksum wrong: the
//! transaction never happened. A crash after it leaves a valid journal, which
//! [`super::FatFs::replay_journal`] writes in place again when the filesystem is next opened.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use mirage_types::{FsError, hex_sha256};

/// The journal's first bytes.
const MAGIC: &[u8; 16] = b"MIRAGE-KV-JRNL-1";
/// Bytes of the checksum (SHA-256 in hexadecimal) in the header.
const CHECKSUM_LEN: usize = 64;

/// Where the journal's sectors lie on the device, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Journal {
    /// The device sector holding each of the journal's sectors.
    pub(crate) sectors: Vec<u64>,
}

/// Sectors a journal holds: where each goes, and its bytes.
pub(crate) type Records = Vec<(u64, Vec<u8>)>;

/// One sector to write in place.
pub(crate) struct Record<'a> {
    pub(crate) sector: u64,
    pub(crate) data: &'a [u8],
}

impl Journal {
    /// The journal's contents for `records`, one buffer per journal sector from the first;
    /// an error when they do not fit.
    pub(crate) fn image(
        &self,
        records: &[Record<'_>],
        sector_size: usize,
    ) -> Result<Vec<u8>, FsError> {
        let table_sectors = (records.len() * 8).div_ceil(sector_size);
        let needed = 1 + table_sectors + records.len();
        if needed > self.sectors.len() {
            return Err(FsError::UnknownError(format!(
                "a transaction of {} sectors does not fit the journal's {}",
                records.len(),
                self.sectors.len()
            )));
        }
        let mut body = Vec::with_capacity((needed - 1) * sector_size);
        for record in records {
            body.extend_from_slice(&record.sector.to_le_bytes());
        }
        body.resize(table_sectors * sector_size, 0);
        for record in records {
            body.extend_from_slice(record.data);
        }
        let mut image = vec![0u8; sector_size];
        image[..16].copy_from_slice(MAGIC);
        image[16..24].copy_from_slice(&(records.len() as u64).to_le_bytes());
        let checksum = checksum(&image[..24], &body);
        image[24..24 + CHECKSUM_LEN].copy_from_slice(checksum.as_bytes());
        image.extend_from_slice(&body);
        Ok(image)
    }

    /// The records a journal's header announces, read from `header` and the sectors after it
    /// (`rest`, which must hold at least what the header says): `None` when the journal holds
    /// no complete transaction (cleared, never written, or cut short by a crash).
    pub(crate) fn records(
        header: &[u8],
        rest: &[u8],
        sector_size: usize,
        device_sectors: u64,
    ) -> Result<Option<Records>, FsError> {
        if header.len() < 24 + CHECKSUM_LEN || &header[..16] != MAGIC {
            return Ok(None);
        }
        let count = u64::from_le_bytes(header[16..24].try_into().expect("8 bytes"));
        let Some(count) = usize::try_from(count)
            .ok()
            .filter(|count| count.saturating_mul(sector_size + 8) <= rest.len())
        else {
            return Ok(None);
        };
        let table_sectors = (count * 8).div_ceil(sector_size);
        let body = &rest[..(table_sectors + count) * sector_size];
        if checksum(&header[..24], body).as_bytes() != &header[24..24 + CHECKSUM_LEN] {
            return Ok(None);
        }
        let mut records = Vec::with_capacity(count);
        for index in 0..count {
            let sector = u64::from_le_bytes(body[index * 8..index * 8 + 8].try_into().expect("8"));
            if sector >= device_sectors {
                return Err(FsError::FormatNotRecognised(format!(
                    "the key/value journal names sector {sector}, beyond the device"
                )));
            }
            let at = (table_sectors + index) * sector_size;
            records.push((sector, body[at..at + sector_size].to_vec()));
        }
        Ok(Some(records))
    }
}

fn checksum(header: &[u8], body: &[u8]) -> String {
    let mut all = Vec::with_capacity(header.len() + body.len());
    all.extend_from_slice(header);
    all.extend_from_slice(body);
    hex_sha256(&all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_reads_back_and_any_damage_voids_it() {
        let journal = Journal {
            sectors: (100..120).collect(),
        };
        let (a, b) = (vec![1u8; 512], vec![2u8; 512]);
        let records = [
            Record {
                sector: 7,
                data: &a,
            },
            Record {
                sector: 9,
                data: &b,
            },
        ];
        let image = journal.image(&records, 512).unwrap();
        let (header, rest) = image.split_at(512);
        let read = Journal::records(header, rest, 512, 1000).unwrap().unwrap();
        assert_eq!(read, vec![(7, a.clone()), (9, b.clone())]);
        for at in [0, 20, 30, 600, image.len() - 1] {
            let mut damaged = image.clone();
            damaged[at] ^= 1;
            let (header, rest) = damaged.split_at(512);
            assert_eq!(
                Journal::records(header, rest, 512, 1000).unwrap(),
                None,
                "{at}"
            );
        }
        let (header, rest) = image.split_at(512);
        assert!(
            Journal::records(header, &rest[..600], 512, 1000)
                .unwrap()
                .is_none()
        );
        assert!(Journal::records(header, rest, 512, 8).is_err());
        let too_many: Vec<Record<'_>> = (0..19).map(|sector| Record { sector, data: &a }).collect();
        assert!(journal.image(&too_many, 512).is_err());
    }
}
