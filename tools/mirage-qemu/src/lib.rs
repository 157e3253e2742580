#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

use std::fmt::Write;

/// How QEMU runs the guest's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Accel {
    /// QEMU's own translator: works everywhere, slower.
    #[default]
    Tcg,
    /// The host's KVM, where it can run guests.
    Kvm,
}

/// A virtio unikernel's machine: its kernel, memory, command line, disks (virtio-blk, in
/// order) and network interfaces (virtio-net, each on a host tap device).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QemuGuest {
    /// The guest's name (libvirt's domain name; the files' names).
    pub name: String,
    /// The kernel image, as the host running it sees the path.
    pub kernel: String,
    /// MiB of memory.
    pub memory: u32,
    /// The kernel's command line (its keys).
    pub extra: Option<String>,
    /// Raw disk images, in order.
    pub disks: Vec<String>,
    /// Host tap devices, one per interface, in order.
    pub taps: Vec<String>,
    /// The accelerator libvirt's domain asks for (the run script reads `MIRAGE_ACCEL`).
    pub accel: Accel,
}

impl QemuGuest {
    /// A guest named `name` booting `kernel`, with 32 MiB, no command line, disk or network.
    pub fn new(name: impl Into<String>, kernel: impl Into<String>) -> Self {
        QemuGuest {
            name: name.into(),
            kernel: kernel.into(),
            memory: 32,
            extra: None,
            disks: Vec::new(),
            taps: Vec::new(),
            accel: Accel::Tcg,
        }
    }

    /// Sets the memory in MiB.
    pub fn memory(mut self, memory: u32) -> Self {
        self.memory = memory;
        self
    }

    /// Sets the kernel's command line.
    pub fn extra(mut self, keys: impl Into<String>) -> Self {
        self.extra = Some(keys.into());
        self
    }

    /// Adds a disk image (the next virtio-blk device).
    pub fn disk(mut self, image: impl Into<String>) -> Self {
        self.disks.push(image.into());
        self
    }

    /// Adds a network interface on host tap device `tap`.
    pub fn tap(mut self, tap: impl Into<String>) -> Self {
        self.taps.push(tap.into());
        self
    }

    /// Sets the accelerator of the libvirt domain.
    pub fn accel(mut self, accel: Accel) -> Self {
        self.accel = accel;
        self
    }

    /// Checks that the files will say what is meant: a name of letters, digits, `_`, `.`
    /// and `-` (not beginning with `.` or `-`, at most 64; also a safe file name), paths,
    /// keys and taps with no quote or control character (the script quotes them in `'...'`,
    /// which has no escapes), taps and paths with no `,` either (QEMU's option lists), and
    /// some memory. The error says which value is refused and why.
    pub fn check(&self) -> Result<(), String> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && !self.name.starts_with(['.', '-'])
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !name_ok {
            return Err(format!(
                "name {:?}: use 1 to 64 letters, digits, `_`, `.` or `-`, not beginning with `.` or `-`",
                self.name
            ));
        }
        if self.memory == 0 {
            return Err("memory: a guest needs at least 1 MiB".into());
        }
        let unquotable = |c: char| c == '\'' || c.is_control();
        for (what, value) in std::iter::once(("kernel", &self.kernel))
            .chain(self.disks.iter().map(|disk| ("disk", disk)))
            .chain(self.taps.iter().map(|tap| ("tap", tap)))
        {
            if value.is_empty() || value.contains(|c: char| unquotable(c) || c == ',') {
                return Err(format!(
                    "{what} {value:?}: a value with no quote, comma or control character is needed"
                ));
            }
        }
        if let Some(extra) = &self.extra
            && extra.contains(unquotable)
        {
            return Err(format!(
                "extra {extra:?}: keys with no quote or control character are needed"
            ));
        }
        Ok(())
    }

    /// QEMU's arguments after the accelerator, as the run script writes them.
    fn qemu_arguments(&self) -> Vec<String> {
        let mut args = vec![
            "-cpu max".to_owned(),
            format!("-m {}", self.memory),
            "-nodefaults -no-user-config -display none -serial stdio".to_owned(),
            // A VGA device keeps SeaBIOS's messages off the serial console.
            "-device VGA -device isa-debug-exit".to_owned(),
            format!("-kernel '{}'", self.kernel),
        ];
        if let Some(extra) = &self.extra {
            args.push(format!("-append '{extra}'"));
        }
        for (i, disk) in self.disks.iter().enumerate() {
            args.push(format!(
                "-drive file='{disk}',format=raw,if=none,id=disk{i} -device virtio-blk-pci,drive=disk{i}"
            ));
        }
        for (i, tap) in self.taps.iter().enumerate() {
            args.push(format!(
                "-netdev tap,id=net{i},ifname='{tap}',script=no,downscript=no -device virtio-net-pci,netdev=net{i}"
            ));
        }
        args
    }

    /// The run script: QEMU with the guest's devices and its console on the terminal;
    /// the script's exit status is the unikernel's (`header` is a comment line).
    pub fn run_script(&self, header: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "#!/bin/sh\n# {header}");
        out.push_str(
            "# Runs the unikernel under QEMU, its console on this terminal. TCG by default;\n\
             # MIRAGE_ACCEL=kvm where the host's KVM runs guests. Further arguments go to QEMU.\n\
             # The exit status is the unikernel's: 0 when it powered off, N when it exited\n\
             # with N (QEMU's isa-debug-exit gives 2N+1); QEMU's own failures are 1.\n",
        );
        let _ = write!(
            out,
            "qemu-system-x86_64 -accel \"${{MIRAGE_ACCEL:-tcg}}\" \\\n    {} \\\n    \"$@\"\n",
            self.qemu_arguments().join(" \\\n    ")
        );
        out.push_str(
            "status=$?\n\
             if [ $status -gt 1 ] && [ $((status % 2)) = 1 ]; then exit $((status / 2)); fi\n\
             exit $status\n",
        );
        out
    }

    /// The libvirt domain XML: the same machine for `virsh create` (QEMU driver), its
    /// console a pty (`virsh console`) logged to `console_log`. Without `isa-debug-exit`
    /// under libvirt, every end is an ACPI power-off: the status is on the console only.
    pub fn libvirt_xml(&self, header: &str, console_log: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "<!-- {} -->", escape(header).replace("--", "- -"));
        let kind = match self.accel {
            Accel::Tcg => "qemu",
            Accel::Kvm => "kvm",
        };
        let _ = writeln!(out, "<domain type='{kind}'>");
        let _ = writeln!(out, "  <name>{}</name>", escape(&self.name));
        let _ = writeln!(out, "  <memory unit='MiB'>{}</memory>", self.memory);
        out.push_str("  <vcpu>1</vcpu>\n  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n");
        let _ = writeln!(out, "    <kernel>{}</kernel>", escape(&self.kernel));
        if let Some(extra) = &self.extra {
            let _ = writeln!(out, "    <cmdline>{}</cmdline>", escape(extra));
        }
        out.push_str(
            "  </os>\n  <features>\n    <acpi/>\n  </features>\n  <cpu mode='maximum'/>\n\
             \x20 <on_poweroff>destroy</on_poweroff>\n  <on_reboot>destroy</on_reboot>\n\
             \x20 <on_crash>destroy</on_crash>\n  <devices>\n",
        );
        let _ = writeln!(
            out,
            "    <serial type='pty'>\n      <log file='{}'/>\n      <target port='0'/>\n    </serial>",
            escape(console_log)
        );
        // A VGA device keeps SeaBIOS's messages off the serial console.
        out.push_str(
            "    <video>\n      <model type='vga'/>\n    </video>\n\
             \x20   <controller type='usb' model='none'/>\n    <memballoon model='none'/>\n",
        );
        for (i, disk) in self.disks.iter().enumerate() {
            let _ = writeln!(
                out,
                "    <disk type='file' device='disk'>\n      <driver name='qemu' type='raw'/>\n      <source file='{}'/>\n      <target dev='vd{}' bus='virtio'/>\n    </disk>",
                escape(disk),
                char::from(b'a' + (i % 26) as u8)
            );
        }
        for tap in &self.taps {
            let _ = writeln!(
                out,
                "    <interface type='ethernet'>\n      <target dev='{}' managed='no'/>\n      <model type='virtio'/>\n    </interface>",
                escape(tap)
            );
        }
        out.push_str("  </devices>\n</domain>\n");
        out
    }
}

/// `text` with XML's five special characters escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&apos;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_the_files_would_misread_are_refused() {
        let good = QemuGuest::new("console", "/srv/mir-console.virtio");
        assert_eq!(good.check(), Ok(()));
        for bad in [
            QemuGuest::new("../x", "/k"),
            QemuGuest::new("", "/k"),
            QemuGuest::new("a b", "/k"),
            QemuGuest::new("x", "/k'; rm -rf /"),
            QemuGuest::new("x", "/k").disk("a,b"),
            QemuGuest::new("x", "/k").tap("tap\n0"),
            QemuGuest::new("x", "/k").extra("--ip '1'"),
            QemuGuest::new("x", "/k").memory(0),
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_script_names_every_device_and_turns_the_status_back() {
        let guest = QemuGuest::new("kv_ro", "/srv/k")
            .extra("--kv-ro fat")
            .disk("/srv/fat1.img")
            .tap("tap0");
        let script = guest.run_script("test");
        assert!(script.contains("-kernel '/srv/k'"));
        assert!(script.contains("-append '--kv-ro fat'"));
        assert!(script.contains("file='/srv/fat1.img',format=raw"));
        assert!(script.contains("ifname='tap0'"));
        assert!(script.contains("exit $((status / 2))"));
    }

    #[test]
    fn the_domain_xml_escapes_what_it_names() {
        let guest = QemuGuest::new("web", "/srv/a&b").extra("--x <y>");
        let xml = guest.libvirt_xml("h", "/var/log/web.log");
        assert!(xml.contains("<kernel>/srv/a&amp;b</kernel>"));
        assert!(xml.contains("<cmdline>--x &lt;y&gt;</cmdline>"));
        assert!(xml.contains("<domain type='qemu'>"));
        assert!(xml.contains("<log file='/var/log/web.log'/>"));
    }
}
