//! `mir-stackv4` as a Xen PV unikernel: the tutorial's stackv4, composed by hand with the
//! domain's console and the direct stack (smoltcp) on its first network interface (`vif`
//! 0, from the `.xl`) through our Netfront. Its keys come from the command line (`extra =`
//! in the `.xl`): `--ip`, `--netmask`, `--gateways`, `--dhcp`, ... (the Unix `main.rs`
//! composes the same `Main` with a terminal and a tap device or the host's sockets).

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
use mirage_xen_pv::{Xen, block_on};

fn run(xen: Xen) -> Result<(), String> {
    let keys = BootKeys::parse(xen.command_line())?;
    let net = &keys.net;
    let random = xen.random().map_err(|error| error.to_string())?;
    let platform = StackPlatform::new(xen.time(), xen.monotonic_clock(), random);
    // Shared by the callbacks: one ring, one writer at a time.
    let console = Rc::new(xen.console());
    block_on(async {
        let vif = xen.vif(0).await?;
        let (stack, driver) = DirectStack::on_platform(vif, net.addressing(), platform)
            .map_err(|error| error.to_string())?;
        stack.set_tcp_timeout(net.tcp_timeout());
        if let Some(ipv6) = net.ipv6_config() {
            stack.enable_ipv6(ipv6).map_err(|error| error.to_string())?;
        }
        let (used, size) = mirage_xen_pv::memory::heap_usage();
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

mirage_xen_pv::main!(run);
