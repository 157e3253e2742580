//! `mir-static_website` as a Xen PV unikernel: the tutorial's static website, composed by
//! hand with the domain's console, its clock, the site compiled in (`StaticKv` over the
//! same files as the Unix program's `--kv-ro crunch`) and the direct stack (smoltcp) on its
//! first network interface (`vif` 0, from the `.xl`) through our Netfront, HTTPS on
//! `tls::provider` (RustCrypto over `RDRAND` and Xen's wall clock). Its keys come from
//! the command line (`extra =` in the `.xl`): `--ip`, `--dhcp`, `--https true`, ...
//! (the Unix `main.rs` composes the same `Main` with a terminal, tokio's clock and a tap
//! device or the host's sockets).

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
use mirage_xen_pv::{Xen, block_on};

fn run(xen: Xen) -> Result<(), String> {
    let keys = BootKeys::parse(xen.command_line())?;
    let random = xen.random().map_err(|error| error.to_string())?;
    // HTTPS on RustCrypto, with RDRAND's numbers and Xen's wall clock.
    let tls = Tls::new(
        provider::provider(xen.random().map_err(|error| error.to_string())?),
        provider::time(xen.clock()),
    );
    let platform = StackPlatform::new(xen.time(), xen.monotonic_clock(), random);
    // Shared by the callbacks: one ring, one writer at a time.
    let console = Rc::new(xen.console());
    block_on(async {
        let vif = xen.vif(0).await?;
        let (stack, driver) = DirectStack::on_platform(vif, keys.net.addressing(), platform)
            .map_err(|error| error.to_string())?;
        stack.set_tcp_timeout(keys.net.tcp_timeout());
        if let Some(ipv6) = keys.net.ipv6_config() {
            stack.enable_ipv6(ipv6).map_err(|error| error.to_string())?;
        }
        let (used, size) = mirage_xen_pv::memory::heap_usage();
        stack.fit_tcp_to_heap(size - used);
        let application = async {
            addressed(&stack, &*console, keys.net.dhcp).await?;
            let main = Main::new(
                console.clone(),
                &stack,
                xen.time(),
                StaticKv::new(SITE),
                keys.config().tls(tls).clock(xen.clock()),
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
