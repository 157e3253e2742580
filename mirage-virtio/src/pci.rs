//! PCI through the configuration ports 0xcf8/0xcfc (QEMU's `pc` machine, which SeaBIOS has
//! already given BARs and interrupt lines): finding virtio devices by type, in slot order.

use crate::port::{inl, outl};
use alloc::vec::Vec;
use virtio_drivers::transport::DeviceType;
use virtio_drivers::transport::pci::bus::{Command, ConfigurationAccess, DeviceFunction, PciRoot};
use virtio_drivers::transport::pci::virtio_device_type;

/// Configuration space through I/O ports (the legacy mechanism #1).
pub struct PortAccess;

fn address(device_function: DeviceFunction, register_offset: u8) -> u32 {
    0x8000_0000
        | u32::from(device_function.bus) << 16
        | u32::from(device_function.device) << 11
        | u32::from(device_function.function) << 8
        | u32::from(register_offset & 0xfc)
}

impl ConfigurationAccess for PortAccess {
    fn read_word(&self, device_function: DeviceFunction, register_offset: u8) -> u32 {
        outl(0xcf8, address(device_function, register_offset));
        inl(0xcfc)
    }

    fn write_word(&mut self, device_function: DeviceFunction, register_offset: u8, data: u32) {
        outl(0xcf8, address(device_function, register_offset));
        outl(0xcfc, data);
    }

    unsafe fn unsafe_clone(&self) -> Self {
        PortAccess
    }
}

/// A virtio device found on the bus.
#[derive(Debug, Clone, Copy)]
pub struct Found {
    /// Where it is.
    pub device_function: DeviceFunction,
    /// Its interrupt line on the PIC (the configuration space's interrupt line register).
    pub line: u8,
}

/// The virtio devices of type `kind` on bus 0, in slot order, with memory access and bus
/// mastering turned on.
pub fn find(kind: DeviceType) -> Vec<Found> {
    let mut root = PciRoot::new(PortAccess);
    let found: Vec<DeviceFunction> = root
        .enumerate_bus(0)
        .filter(|(_, info)| virtio_device_type(info) == Some(kind))
        .map(|(device_function, _)| device_function)
        .collect();
    found
        .into_iter()
        .map(|device_function| {
            let (_, command) = root.get_status_command(device_function);
            root.set_command(
                device_function,
                command | Command::MEMORY_SPACE | Command::BUS_MASTER,
            );
            let line = PortAccess.read_word(device_function, 0x3c) as u8;
            Found {
                device_function,
                line,
            }
        })
        .collect()
}

/// The PCI root, for making a transport.
pub(crate) fn root() -> PciRoot<PortAccess> {
    PciRoot::new(PortAccess)
}
