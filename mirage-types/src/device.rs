//! V1 `DEVICE`: the one operation every device has.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use async_trait::async_trait;

/// V1 `DEVICE`: a connected device.
///
/// V1 removed `connect` from this signature (mirage 2.3.0): code that is handed a device may use
/// it but not open new ones. Each backend therefore offers an inherent `connect`/`new`, and this
/// trait keeps only [`Device::disconnect`].
#[async_trait(?Send)]
pub trait Device {
    /// Releases the device. V1: "can never result in an error". Every later operation on the
    /// device fails with its family's `Disconnected` error (or the nearest equivalent).
    async fn disconnect(&self);
}
