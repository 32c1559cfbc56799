//! A real Ceph 16.2 cluster on loopback for interop tests, started with
//! `shared/ceph/up.sh` under a private directory and port, stopped on drop.
//! Fails (does not skip) when Ceph is not installed.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

pub struct CephRef {
    pub dir: PathBuf,
    pub port: u16,
    scripts: PathBuf,
}

fn scripts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/ceph")
}

impl CephRef {
    /// Starts `mons` mons and `mgrs` mgrs with mon rank 0 on `port`.
    pub fn start(mons: u32, mgrs: u32, port: u16) -> CephRef {
        let have = Command::new("sh")
            .args(["-c", "command -v ceph-mon && command -v ceph"])
            .output();
        assert!(
            have.is_ok_and(|o| o.status.success()),
            "real Ceph 16.2 is not installed: run ../shared/ceph/install.sh (CI does)"
        );
        let scripts = scripts();
        assert!(
            scripts.join("up.sh").exists(),
            "missing {}: the shared/ folder must sit beside the checkout",
            scripts.display()
        );
        let dir = std::env::temp_dir().join(format!("cuttle-ceph-{port}"));
        let c = CephRef { dir, port, scripts };
        c.script("down.sh", &[]); // a leftover from an interrupted run
        let out = c.script("up.sh", &[&mons.to_string(), &mgrs.to_string()]);
        assert!(
            out.status.success(),
            "up.sh failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        c
    }

    fn script(&self, name: &str, args: &[&str]) -> std::process::Output {
        Command::new("bash")
            .arg(self.scripts.join(name))
            .args(args)
            .env("CEPH_REF_DIR", &self.dir)
            .env("CEPH_REF_PORT", self.port.to_string())
            .output()
            .expect("run a shared/ceph script")
    }

    pub fn conf(&self) -> PathBuf {
        self.dir.join("ceph.conf")
    }

    /// The fsid from the generated ceph.conf.
    pub fn fsid(&self) -> String {
        let conf = std::fs::read_to_string(self.conf()).expect("read ceph.conf");
        conf.lines()
            .find_map(|l| l.trim().strip_prefix("fsid = "))
            .expect("fsid in ceph.conf")
            .to_string()
    }

    /// Rank 0's address, as clients dial it.
    pub fn mon_addr(&self) -> String {
        format!("v2:127.0.0.1:{}/0", self.port)
    }
}

impl Drop for CephRef {
    fn drop(&mut self) {
        let _ = self.script("down.sh", &[]);
    }
}
