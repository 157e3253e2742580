//! `mirage-qemu NAME --out DIR`: writes `DIR/NAME.sh`, the QEMU run script of the virtio
//! unikernel `DIR/mir-NAME.virtio`, and `DIR/NAME.xml`, its libvirt domain.

use clap::{Parser, ValueEnum};
use mirage_qemu::{Accel, QemuGuest};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum AccelArg {
    Tcg,
    Kvm,
}

/// Writes how to run a virtio unikernel: a QEMU run script and a libvirt domain XML.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// The unikernel's name: its kernel is `mir-NAME.virtio`.
    name: String,
    /// Where the kernel is and the files go.
    #[arg(long)]
    out: PathBuf,
    /// Where OUT's files will be on the host that runs them, when that is another machine
    /// (the files name the kernel and disks by absolute path).
    #[arg(long, value_name = "DIR")]
    at: Option<PathBuf>,
    /// MiB of memory.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..))]
    memory: u32,
    /// Disk images (virtio-blk), in order; a relative name is in OUT.
    #[arg(long)]
    disk: Vec<String>,
    /// Host tap devices, one virtio-net interface each.
    #[arg(long)]
    tap: Vec<String>,
    /// The unikernel's keys, its command line, as one argument.
    #[arg(long, value_name = "KEYS", allow_hyphen_values = true)]
    extra: Option<String>,
    /// The libvirt domain's accelerator.
    #[arg(long, value_enum, default_value_t = AccelArg::Tcg)]
    accel: AccelArg,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let out = match std::path::absolute(&args.out) {
        Ok(out) => out,
        Err(error) => {
            eprintln!("mirage-qemu: {}: {error}", args.out.display());
            return ExitCode::FAILURE;
        }
    };
    let host_dir = match &args.at {
        Some(dir) if dir.is_absolute() => dir.clone(),
        Some(dir) => {
            eprintln!(
                "mirage-qemu: --at {}: an absolute path is needed",
                dir.display()
            );
            return ExitCode::FAILURE;
        }
        None => out.clone(),
    };
    let at = |file: &str| host_dir.join(file).display().to_string();
    let mut guest = QemuGuest::new(&args.name, at(&format!("mir-{}.virtio", args.name)))
        .memory(args.memory)
        .accel(match args.accel {
            AccelArg::Tcg => Accel::Tcg,
            AccelArg::Kvm => Accel::Kvm,
        });
    for disk in &args.disk {
        guest = guest.disk(at(disk));
    }
    for tap in &args.tap {
        guest = guest.tap(tap);
    }
    if let Some(extra) = &args.extra {
        guest = guest.extra(extra);
    }
    if let Err(error) = guest.check() {
        eprintln!("mirage-qemu: {error}");
        return ExitCode::FAILURE;
    }
    let header = format!("mir-{} under QEMU, written by mirage-qemu", args.name);
    let script = out.join(format!("{}.sh", args.name));
    let xml = out.join(format!("{}.xml", args.name));
    let log = at(&format!("{}.console.log", args.name));
    let written = std::fs::write(&script, guest.run_script(&header))
        .and_then(|()| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
        })
        .and_then(|()| std::fs::write(&xml, guest.libvirt_xml(&header, &log)));
    if let Err(error) = written {
        eprintln!("mirage-qemu: writing in {}: {error}", out.display());
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
