//! `.xl` domain configurations, as the `mirage` tool writes them (`<name>.xl`, and
//! `<name>.xl.in` with placeholders for a later `sed`), in the forms `xl` accepts.

#[allow(unused_imports)]
use crate::prelude::*;

use core::fmt::Write;

/// How `xl` boots the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestType {
    /// Mirage 2's form, `builder = 'linux'`: Xen before 4.10 only (today's `xl` refuses it).
    LegacyPv,
    /// `type = 'pv'`: a paravirtualised guest (what this project's unikernel is).
    Pv,
    /// `type = 'pvh'`: a PVH guest (Mirage 4's form; needs hardware virtualisation).
    Pvh,
}

/// A guest's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct XlConfig {
    /// The domain's name.
    pub name: String,
    /// The kernel image.
    pub kernel: String,
    /// How it boots.
    pub guest: GuestType,
    /// MiB of memory.
    pub memory: u32,
    /// Disk images, given to the guest as `xvda`, `xvdb`, ... in order.
    pub disks: Vec<String>,
    /// The bridges of its network interfaces, in order.
    pub bridges: Vec<String>,
    /// The kernel's command line (`extra =`): a unikernel's boot-time keys.
    pub extra: Option<String>,
}

impl XlConfig {
    /// A PV guest `name` booting `kernel` with 256 MiB, no disks and no networks.
    pub fn new(name: impl Into<String>, kernel: impl Into<String>) -> Self {
        XlConfig {
            name: name.into(),
            kernel: kernel.into(),
            guest: GuestType::Pv,
            memory: 256,
            disks: Vec::new(),
            bridges: Vec::new(),
            extra: None,
        }
    }

    /// Sets how it boots.
    pub fn guest(mut self, guest: GuestType) -> Self {
        self.guest = guest;
        self
    }

    /// Sets the memory in MiB.
    pub fn memory(mut self, memory: u32) -> Self {
        self.memory = memory;
        self
    }

    /// Adds a disk image (the next `xvd*`).
    pub fn disk(mut self, image: impl Into<String>) -> Self {
        self.disks.push(image.into());
        self
    }

    /// Adds a network interface on `bridge`.
    pub fn bridge(mut self, bridge: impl Into<String>) -> Self {
        self.bridges.push(bridge.into());
        self
    }

    /// Sets the kernel's command line (`extra =`): the unikernel's keys, such as
    /// `--ip 10.0.0.5 --netmask 255.255.255.0`.
    pub fn extra(mut self, keys: impl Into<String>) -> Self {
        self.extra = Some(keys.into());
        self
    }

    /// Checks that `xl` will read the configuration as meant: a domain name of letters,
    /// digits, `_`, `.` and `-` (not beginning with `.` or `-`, at most 64), so it is also a
    /// safe file name; paths and bridges with no quote or control character (they are
    /// written inside `'...'`, which has no escapes), bridges with no `,`, `=` or space
    /// either (they sit in a `key=value,...` list); and some memory. The error says which
    /// value is refused and why.
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
                "domain name {:?}: use 1 to 64 letters, digits, `_`, `.` or `-`, not beginning with `.` or `-`",
                self.name
            ));
        }
        if self.memory == 0 {
            return Err("memory: a domain needs at least 1 MiB (these unikernels about 12)".into());
        }
        let unquotable = |c: char| c == '\'' || c.is_control();
        for (what, value) in core::iter::once(("kernel", &self.kernel))
            .chain(self.disks.iter().map(|disk| ("disk", disk)))
        {
            if value.is_empty() || value.contains(unquotable) {
                return Err(format!(
                    "{what} {value:?}: a path with no quote or control character is needed"
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
        for bridge in &self.bridges {
            if bridge.is_empty()
                || bridge.contains(|c: char| unquotable(c) || matches!(c, ',' | '=' | ' '))
            {
                return Err(format!(
                    "bridge {bridge:?}: a name with no quote, comma, `=`, space or control character is needed"
                ));
            }
        }
        Ok(())
    }

    /// The `.xl` file, under `header` (a comment line without its `#`).
    pub fn to_xl(&self, header: &str) -> String {
        self.render(
            header,
            &self.name,
            &self.kernel,
            &self.memory.to_string(),
            |_, image| image.to_owned(),
            |_, bridge| bridge.to_owned(),
        )
    }

    /// The `.xl.in` template: the same with `@NAME@`, `@KERNEL@`, `@MEMORY@`,
    /// `@BLOCK:<file>@` and `@NETWORK:<name>@` in place of the values.
    pub fn to_xl_in(&self, header: &str) -> String {
        self.render(
            header,
            "@NAME@",
            "@KERNEL@",
            "@MEMORY@",
            |_, image| {
                let file = image.rsplit('/').next().unwrap_or(image);
                format!("@BLOCK:{file}@")
            },
            |_, bridge| format!("@NETWORK:{bridge}@"),
        )
    }

    fn render(
        &self,
        header: &str,
        name: &str,
        kernel: &str,
        memory: &str,
        disk: impl Fn(usize, &str) -> String,
        bridge: impl Fn(usize, &str) -> String,
    ) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# {header}\n");
        let _ = writeln!(out, "name = '{name}'");
        let _ = writeln!(out, "kernel = '{kernel}'");
        match self.guest {
            GuestType::LegacyPv => out.push_str("builder = 'linux'\n"),
            GuestType::Pv => out.push_str("type = 'pv'\n"),
            GuestType::Pvh => out.push_str("type = 'pvh'\n"),
        }
        let _ = writeln!(out, "memory = {memory}");
        if let Some(extra) = &self.extra {
            let _ = writeln!(out, "extra = '{extra}'");
        }
        out.push_str("on_crash = 'preserve'\n\n");
        let disks: Vec<String> = self
            .disks
            .iter()
            .enumerate()
            .map(|(i, image)| {
                format!(
                    "'format=raw, vdev={}, access=rw, target={}'",
                    vdev_name(i),
                    disk(i, image)
                )
            })
            .collect();
        let _ = writeln!(out, "disk = [ {} ]\n", disks.join(", "));
        out.push_str(
            "# if your system uses openvswitch then either edit /etc/xen/xl.conf and set\n\
             #     vif.default.script=\"vif-openvswitch\"\n\
             # or add \"script=vif-openvswitch,\" before the \"bridge=\" below:\n",
        );
        let vifs: Vec<String> = self
            .bridges
            .iter()
            .enumerate()
            .map(|(i, name)| format!("'bridge={}'", bridge(i, name)))
            .collect();
        let _ = writeln!(out, "vif = [ {} ]", vifs.join(", "));
        out
    }
}

/// The name of disk `index`: `xvd` and bijective base-26 letters (0 `xvda`, 25 `xvdz`,
/// 26 `xvdaa`).
pub fn vdev_name(index: usize) -> String {
    let mut letters = Vec::new();
    let mut n = index + 1;
    while n > 0 {
        n -= 1;
        letters.push(b'a' + (n % 26) as u8);
        n /= 26;
    }
    letters.reverse();
    format!("xvd{}", String::from_utf8(letters).expect("ASCII letters"))
}

/// The index of disk `name` (`xvda` is 0, `xvdz` 25, `xvdaa` 26), the inverse of
/// [`vdev_name`]; `None` if it is not such a name.
pub fn vdev_index(name: &str) -> Option<usize> {
    let letters = name.strip_prefix("xvd")?;
    if letters.is_empty() || letters.len() > 4 || !letters.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    let number = letters
        .bytes()
        .fold(0usize, |n, b| n * 26 + usize::from(b - b'a') + 1);
    Some(number - 1)
}

/// The device number of disk `index` (`xvda` is 51712): `202 << 8 | disk << 4` below 16
/// disks, the extended form `1 << 28 | disk << 8` above.
pub fn vdev_number(index: usize) -> u32 {
    let disk = index as u32;
    if disk < 16 {
        (202 << 8) | (disk << 4)
    } else {
        (1 << 28) | (disk << 8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_turn_back_into_indices() {
        for index in [0, 1, 25, 26, 27, 701, 702, 18_277] {
            assert_eq!(vdev_index(&vdev_name(index)), Some(index), "{index}");
        }
        for junk in ["", "xvd", "sda", "xvdA", "xvd1", "xvdaaaaa"] {
            assert_eq!(vdev_index(junk), None, "{junk}");
        }
    }

    #[test]
    fn names_and_numbers_of_disks() {
        let names: Vec<String> = [0, 1, 25, 26, 27, 701, 702]
            .iter()
            .map(|&i| vdev_name(i))
            .collect();
        assert_eq!(
            names,
            ["xvda", "xvdb", "xvdz", "xvdaa", "xvdab", "xvdzz", "xvdaaa"]
        );
        assert_eq!(vdev_number(0), 51712);
        assert_eq!(vdev_number(1), 51728);
        assert_eq!(vdev_number(16), (1 << 28) | (16 << 8));
    }

    #[test]
    fn values_xl_would_misread_are_refused() {
        assert_eq!(
            XlConfig::new("block_test", "/a/k.xen")
                .disk("/a/d.img")
                .check(),
            Ok(())
        );
        for name in [
            "",
            "../../etc/x",
            "a/b",
            ".hidden",
            "-x",
            "a b",
            "a'b",
            &"x".repeat(65),
        ] {
            let error = XlConfig::new(name, "k").check().unwrap_err();
            assert!(error.contains("domain name"), "{name}: {error}");
        }
        let error = XlConfig::new("x", "k").memory(0).check().unwrap_err();
        assert!(error.contains("memory"), "{error}");
        for disk in ["a', target=/etc/shadow", "a\nvif = [ 'bridge=x' ]", ""] {
            let error = XlConfig::new("x", "k").disk(disk).check().unwrap_err();
            assert!(error.contains("disk"), "{disk:?}: {error}");
        }
        for bridge in ["br0,script=/tmp/evil", "a=b", "x'", "a b"] {
            let error = XlConfig::new("x", "k").bridge(bridge).check().unwrap_err();
            assert!(error.contains("bridge"), "{bridge:?}: {error}");
        }
        assert!(
            XlConfig::new("x", "/a'b")
                .check()
                .unwrap_err()
                .contains("kernel")
        );
    }

    #[test]
    fn the_tutorial_forms() {
        let config = XlConfig::new("block_test", "/build/mir-block_test.xen")
            .guest(GuestType::LegacyPv)
            .disk("/build/disk.img");
        let xl = config.to_xl("Generated by mirage-rs.");
        assert_eq!(
            xl,
            "# Generated by mirage-rs.\n\nname = 'block_test'\nkernel = '/build/mir-block_test.xen'\n\
             builder = 'linux'\nmemory = 256\non_crash = 'preserve'\n\n\
             disk = [ 'format=raw, vdev=xvda, access=rw, target=/build/disk.img' ]\n\n\
             # if your system uses openvswitch then either edit /etc/xen/xl.conf and set\n\
             #     vif.default.script=\"vif-openvswitch\"\n\
             # or add \"script=vif-openvswitch,\" before the \"bridge=\" below:\n\
             vif = [  ]\n"
        );
        let template = XlConfig::new("stackv4", "k").bridge("tap0").to_xl_in("h");
        assert!(
            template
                .contains("name = '@NAME@'\nkernel = '@KERNEL@'\ntype = 'pv'\nmemory = @MEMORY@\n")
        );
        assert!(template.contains("disk = [  ]\n"));
        assert!(template.contains("vif = [ 'bridge=@NETWORK:tap0@' ]\n"));
        let disks = XlConfig::new("kv", "k").disk("/a/fat1.img").to_xl_in("h");
        assert!(disks.contains("target=@BLOCK:fat1.img@"), "{disks}");
        let pvh = XlConfig::new("x", "k").guest(GuestType::Pvh).to_xl("h");
        assert!(pvh.contains("type = 'pvh'\n"));
    }
}
