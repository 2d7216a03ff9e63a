//! A real Alertmanager (Debian's `prometheus-alertmanager`) on loopback, clustering off, from a configuration
//! the test writes; stopped when dropped.

use std::path::Path;

use super::daemon::Daemon;

/// Where Debian's `prometheus-alertmanager` package installs Alertmanager (.ci/run installs it).
pub const ALERTMANAGER: &str = "/usr/bin/prometheus-alertmanager";

pub struct Alertmanager {
    pub daemon: Daemon,
    pub url: String,
}

impl Alertmanager {
    /// Writes `config` to `dir/alertmanager.yml`, starts Alertmanager on `port` with its data in `dir/am-data`
    /// and its log in `dir/alertmanager.log`, and waits until it is ready.
    pub fn start(dir: &Path, config: &str, port: u16) -> Alertmanager {
        std::fs::write(dir.join("alertmanager.yml"), config).expect("write the Alertmanager config");
        std::fs::create_dir(dir.join("am-data")).expect("mkdir");
        let mut daemon = Daemon::spawn(
            ALERTMANAGER,
            &[
                format!("--config.file={}", dir.join("alertmanager.yml").display()),
                format!("--storage.path={}", dir.join("am-data").display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
                "--cluster.listen-address=".to_string(),
                "--log.level=debug".to_string(),
            ],
            dir,
            &dir.join("alertmanager.log"),
        );
        let url = format!("http://127.0.0.1:{port}");
        daemon.wait_ready(&url, "alertmanager");
        Alertmanager { daemon, url }
    }

    pub fn log(&self) -> String {
        self.daemon.log()
    }
}
