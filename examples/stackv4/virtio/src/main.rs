//! `mir-stackv4` as a QEMU/KVM unikernel: the tutorial's stackv4, composed by hand with the
//! serial console and the direct stack (smoltcp) on the first virtio-net interface. Its keys
//! come from the command line (QEMU's `-append`): `--ip`, `--netmask`, `--gateways`,
//! `--dhcp`, ... (the Unix `main.rs` composes the same `Main` with a terminal and a tap
//! device or the host's sockets, the Xen kernel with Netfront).

#![no_std]
#![no_main]

extern crate alloc;

use alloc::rc::Rc;
use alloc::string::{String, ToString};
use core::pin::pin;
use futures::future::{Either, select};
use mir_stackv4::addressed::addressed;
use mir_stackv4::boot_keys::BootKeys;
use mir_stackv4::unikernel::Main;
use mirage_net::{DirectStack, StackPlatform};
use mirage_virtio::{Virtio, block_on};

fn run(virtio: Virtio) -> Result<(), String> {
    let keys = BootKeys::parse(virtio.command_line())?;
    let net = &keys.net;
    let random = virtio.random().map_err(|error| error.to_string())?;
    let platform = StackPlatform::new(virtio.time(), virtio.monotonic_clock(), random);
    // Shared by the callbacks.
    let console = Rc::new(virtio.console());
    let interface = virtio.net(0).map_err(|error| error.to_string())?;
    block_on(async {
        let (stack, driver) = DirectStack::on_platform(interface, net.addressing(), platform)
            .map_err(|error| error.to_string())?;
        stack.set_tcp_timeout(net.tcp_timeout());
        if let Some(ipv6) = net.ipv6_config() {
            stack.enable_ipv6(ipv6).map_err(|error| error.to_string())?;
        }
        let (used, size) = mirage_unikernel::heap::usage();
        stack.fit_tcp_to_heap(size - used);
        let application = async {
            addressed(&stack, &*console, net.dhcp).await?;
            let main = Main::new(
                console.clone(),
                &stack,
                keys.palette(),
                keys.udp_port,
                keys.tcp_port,
            );
            main.start().await.map_err(|error| error.to_string())
        };
        match select(driver, pin!(application)).await {
            Either::Left(((), _)) => Err("the network stack stopped".into()),
            Either::Right((outcome, _)) => outcome,
        }
    })
}

mirage_virtio::main!(run);
