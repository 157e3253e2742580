//! Where a device's frontend and backend directories are, and making them as a toolstack
//! does.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::abi::DomId;
use crate::abi::xenbus::XenbusState;
use crate::platform::{Access, Permission, Store, XenError};

/// The kinds of device this crate drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// A block device (`vbd`).
    Vbd,
    /// A network interface (`vif`).
    Vif,
    /// A secondary console (`console`).
    Console,
}

impl DeviceKind {
    /// The name in store paths.
    pub fn name(self) -> &'static str {
        match self {
            DeviceKind::Vbd => "vbd",
            DeviceKind::Vif => "vif",
            DeviceKind::Console => "console",
        }
    }
}

/// Both ends of one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePaths {
    /// The frontend's domain.
    pub frontend_id: DomId,
    /// `/local/domain/<frontend>/device/<kind>/<devid>`.
    pub frontend: String,
    /// The backend's domain.
    pub backend_id: DomId,
    /// `/local/domain/<backend>/backend/<kind>/<frontend>/<devid>`.
    pub backend: String,
}

impl DevicePaths {
    /// The paths of device `devid` of `kind` between two domains.
    pub fn new(kind: DeviceKind, frontend_id: DomId, backend_id: DomId, devid: u32) -> Self {
        let kind = kind.name();
        DevicePaths {
            frontend_id,
            frontend: format!("/local/domain/{frontend_id}/device/{kind}/{devid}"),
            backend_id,
            backend: format!("/local/domain/{backend_id}/backend/{kind}/{frontend_id}/{devid}"),
        }
    }

    /// Finds the backend of device `devid` from the frontend's side, as the frontend does:
    /// from the `backend` and `backend-id` nodes the toolstack wrote.
    pub async fn discover<S: Store>(
        store: &S,
        kind: DeviceKind,
        frontend_id: DomId,
        devid: u32,
    ) -> Result<Self, XenError> {
        let frontend = format!("/local/domain/{frontend_id}/device/{}/{devid}", kind.name());
        let backend = store.read(0, &format!("{frontend}/backend")).await?;
        let backend_id = store
            .read(0, &format!("{frontend}/backend-id"))
            .await?
            .parse()
            .map_err(|_| XenError::Other(format!("{frontend}/backend-id is not a domain")))?;
        Ok(DevicePaths {
            frontend_id,
            frontend,
            backend_id,
            backend,
        })
    }
}

/// Makes a device's two directories as a toolstack does (from dom0): both in
/// `Initialising`, linked to each other, each owned by its side and readable by the other,
/// with `extra` backend nodes (`mode`, `params`, ...).
pub async fn create_device<S: Store>(
    dom0: &S,
    paths: &DevicePaths,
    extra: &[(&str, &str)],
) -> Result<(), XenError> {
    let tx = 0;
    let front = &paths.frontend;
    let back = &paths.backend;
    let initialising = XenbusState::Initialising.to_string();
    for (node, value) in [
        ("backend", back.as_str()),
        ("backend-id", &paths.backend_id.to_string()),
        ("state", &initialising),
    ] {
        dom0.write(tx, &format!("{front}/{node}"), value).await?;
    }
    for (node, value) in [
        ("frontend", front.as_str()),
        ("frontend-id", &paths.frontend_id.to_string()),
        ("online", "1"),
        ("state", &initialising),
    ] {
        dom0.write(tx, &format!("{back}/{node}"), value).await?;
    }
    for (node, value) in extra {
        dom0.write(tx, &format!("{back}/{node}"), value).await?;
    }
    let owned_by = |owner: DomId, reader: DomId| {
        [
            Permission {
                domain: owner,
                access: Access::None,
            },
            Permission {
                domain: reader,
                access: Access::Read,
            },
        ]
    };
    set_tree_perms(dom0, front, &owned_by(paths.frontend_id, paths.backend_id)).await?;
    set_tree_perms(dom0, back, &owned_by(paths.backend_id, paths.frontend_id)).await
}

/// Sets `perms` on `dir` and every node under it.
async fn set_tree_perms<S: Store>(
    store: &S,
    dir: &str,
    perms: &[Permission],
) -> Result<(), XenError> {
    let mut pending = vec![dir.to_owned()];
    while let Some(path) = pending.pop() {
        store.set_perms(0, &path, perms).await?;
        for child in store.directory(0, &path).await? {
            pending.push(format!("{path}/{child}"));
        }
    }
    Ok(())
}
