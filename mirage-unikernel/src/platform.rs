//! The boundary between the shared core and a hypervisor: the few calls a platform makes
//! available, shaped after Solo5's guest interface (write the console, read the clocks,
//! block until a deadline or a device is ready, exit). Devices (network, block) are
//! `mirage-types` implementations of the platform's own; what the executor needs of them
//! is an event number each, which [`Platform::is_ready`] answers for.

/// How a unikernel ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The application finished (`main` returned `Ok`): power off.
    Success,
    /// It failed, or panicked: the platform reports a failure (Xen: the domain crashes;
    /// QEMU: a non-zero exit status).
    Failure,
}

/// What a hypervisor platform provides the shared core. One virtual CPU: nothing here is
/// called concurrently, and an interrupt handler (where a platform takes interrupts) calls
/// none of it.
pub trait Platform: Sync {
    /// Nanoseconds on the monotonic clock (from an origin of the platform's choosing; a
    /// reading may repeat but never go back).
    fn monotonic_ns(&self) -> u64;

    /// Nanoseconds since the Unix epoch on the wall clock.
    fn wall_ns(&self) -> u64;

    /// Writes `bytes` to the console at once, without the executor (panics and the last
    /// words before exit).
    fn console_write(&self, bytes: &[u8]);

    /// Whether device event `event` is ready (the platform's numbering: Xen's event
    /// channels, a virtio device's interrupt).
    fn is_ready(&self, event: u32) -> bool;

    /// Blocks the CPU until one of `events` is ready or the monotonic clock reaches
    /// `deadline` (`None`: no deadline); it may return early.
    fn wait(&self, events: &[u32], deadline: Option<u64>);

    /// Ends the unikernel (after letting the console's last lines out).
    fn exit(&self, how: Exit) -> !;
}

pub(crate) static PLATFORM: spin::Once<&'static dyn Platform> = spin::Once::new();

/// Installs the platform the executor and timers use; the first call wins (a platform's
/// boot calls it once, before the application runs).
pub fn install(platform: &'static dyn Platform) {
    PLATFORM.call_once(|| platform);
}

/// The installed platform.
///
/// # Panics
///
/// If none was installed: the platform's boot code installs it before `main`.
pub fn platform() -> &'static dyn Platform {
    *PLATFORM
        .get()
        .expect("mirage-unikernel: no platform installed (install() comes first)")
}
