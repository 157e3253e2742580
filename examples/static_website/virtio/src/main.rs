//! `mir-static_website` as a QEMU/KVM unikernel: the tutorial's static website, composed
//! by hand with the serial console, the TSC's clock, the site compiled in (`StaticKv` over
//! the same files as the Unix program's `--kv-ro crunch`) and the direct stack (smoltcp) on
//! the first virtio-net interface, HTTPS on `tls::provider` (RustCrypto over `RDRAND` and
//! the RTC's wall clock). Its keys come from the command line (QEMU's `-append`): `--ip`,
//! `--dhcp`, `--https true`, ... (the Unix `main.rs` and the Xen kernel compose the same
//! `Main` with their own).

#![no_std]
#![no_main]

extern crate alloc;

use alloc::rc::Rc;
use alloc::string::{String, ToString};
use core::pin::pin;
use futures::future::{Either, select};
use mir_stackv4::addressed::addressed;
use mir_static_website::boot_keys::BootKeys;
use mir_static_website::site_table::SITE;
use mir_static_website::tls::{Tls, provider};
use mir_static_website::unikernel::Main;
use mirage_kv::StaticKv;
use mirage_net::{DirectStack, StackPlatform};
use mirage_virtio::{Virtio, block_on};

fn run(virtio: Virtio) -> Result<(), String> {
    let keys = BootKeys::parse(virtio.command_line())?;
    let random = virtio.random().map_err(|error| error.to_string())?;
    // HTTPS on RustCrypto, with RDRAND's numbers and Xen's wall clock.
    let tls = Tls::new(
        provider::provider(virtio.random().map_err(|error| error.to_string())?),
        provider::time(virtio.clock()),
    );
    let platform = StackPlatform::new(virtio.time(), virtio.monotonic_clock(), random);
    // Shared by the callbacks: one ring, one writer at a time.
    let console = Rc::new(virtio.console());
    let interface = virtio.net(0).map_err(|error| error.to_string())?;
    block_on(async {
        let (stack, driver) = DirectStack::on_platform(interface, keys.net.addressing(), platform)
            .map_err(|error| error.to_string())?;
        stack.set_tcp_timeout(keys.net.tcp_timeout());
        if let Some(ipv6) = keys.net.ipv6_config() {
            stack.enable_ipv6(ipv6).map_err(|error| error.to_string())?;
        }
        let (used, size) = mirage_unikernel::heap::usage();
        stack.fit_tcp_to_heap(size - used);
        let application = async {
            addressed(&stack, &*console, keys.net.dhcp).await?;
            let main = Main::new(
                console.clone(),
                &stack,
                virtio.time(),
                StaticKv::new(SITE),
                keys.config().tls(tls).clock(virtio.clock()),
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
