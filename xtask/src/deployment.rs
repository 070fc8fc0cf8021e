//! Server deployments on loopback, as `deploy/` describes them, for `cargo xtask scale` and
//! `cargo xtask bench`: one or more HTTP server instances, optionally sharing one
//! `redis-server` and a random `requestState` key, optionally behind HAProxy (round-robin, no
//! stickiness).
//!
//! Every process is started with its output in a log of its own, waited for until it listens,
//! and killed by its PID and reaped, in the reverse order of its start, when the deployment is
//! dropped, also when the start fails half-way.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context as _, Result, bail, ensure};

use crate::conformance;

/// The template of the balancer's configuration, relative to the workspace root.
pub(crate) const HAPROXY_TEMPLATE: &str = "deploy/haproxy.cfg.in";

/// A directory under the system's temporary directory, for this process only, removed when
/// dropped.
pub(crate) struct TemporaryDirectory {
    pub(crate) path: PathBuf,
}

impl TemporaryDirectory {
    /// Creates `<temp>/mcpwire-<purpose>-<pid>`, readable by its owner only.
    pub(crate) fn create(purpose: &str) -> Result<Self> {
        let path = std::env::temp_dir().join(format!("mcpwire-{purpose}-{}", std::process::id()));
        conformance::fresh_directory(&path)?;
        restrict_to_owner(&path, 0o700)?;
        Ok(TemporaryDirectory { path })
    }
}

impl Drop for TemporaryDirectory {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Sets the Unix permissions of `path` (a secret's file or directory).
fn restrict_to_owner(path: &Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .with_context(|| format!("restricting {}", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// What a deployment is made of.
pub(crate) struct Plan<'a> {
    /// The command of an instance serving HTTP on the port given; with [`Plan::redis`], the
    /// deployment adds `--redis` and `--request-state-key-file`.
    pub(crate) instance: &'a dyn Fn(u16) -> Command,
    /// What the instances are, in messages and log names.
    pub(crate) name: &'a str,
    /// Whether the instances share one Redis (and one `requestState` key).
    pub(crate) redis: bool,
    /// The text of `deploy/haproxy.cfg.in` when the instances run behind the balancer;
    /// without it clients reach the first instance directly.
    pub(crate) balancer: Option<&'a str>,
    /// The temporary directory: Redis's files, the key, the balancer's configuration.
    pub(crate) directory: &'a Path,
    /// Where the processes' logs go.
    pub(crate) logs: &'a Path,
    pub(crate) instances: usize,
}

/// The processes of a deployment, running; stopped, in the reverse order of their start,
/// when dropped.
pub(crate) struct Deployment {
    processes: Vec<Process>,
    /// The port of the deployment's Redis, if it has one.
    pub(crate) redis_port: Option<u16>,
    /// The process ids of the instances, in the order of their start.
    pub(crate) instance_pids: Vec<u32>,
    instance_ports: Vec<u16>,
    balancer_port: Option<u16>,
}

/// A process of the deployment: what it is called in messages, its log, and the child.
struct Process {
    name: String,
    log: PathBuf,
    child: Child,
}

impl Deployment {
    pub(crate) fn start(plan: &Plan<'_>) -> Result<Self> {
        ensure!(plan.instances >= 1, "a deployment needs an instance");
        let mut deployment = Deployment {
            processes: Vec::new(),
            redis_port: None,
            instance_pids: Vec::new(),
            instance_ports: Vec::new(),
            balancer_port: None,
        };
        // On an early return, the processes started so far are stopped by the drop.
        let mut shared = None;
        if plan.redis {
            let redis_port = conformance::free_port()?;
            let redis_directory = plan.directory.join("redis");
            fs::create_dir_all(&redis_directory)
                .with_context(|| format!("creating {}", redis_directory.display()))?;
            let mut redis = Command::new("redis-server");
            redis
                .args(["--port", &redis_port.to_string()])
                .args(["--bind", "127.0.0.1", "--protected-mode", "yes"])
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .arg("--dir")
                .arg(&redis_directory);
            deployment.spawn("redis-server", redis, plan.logs, redis_port)?;
            deployment.redis_port = Some(redis_port);
            let key = plan.directory.join("request-state.key");
            write_random_key(&key)?;
            shared = Some((format!("redis://127.0.0.1:{redis_port}"), key));
        }

        for index in 1..=plan.instances {
            let port = conformance::free_port()?;
            let mut instance = (plan.instance)(port);
            if let Some((redis_url, key)) = &shared {
                instance
                    .args(["--redis", redis_url])
                    .arg("--request-state-key-file")
                    .arg(key);
            }
            let pid =
                deployment.spawn(&format!("{}-{index}", plan.name), instance, plan.logs, port)?;
            deployment.instance_ports.push(port);
            deployment.instance_pids.push(pid);
        }

        if let Some(template) = plan.balancer {
            let balancer_port = conformance::free_port()?;
            let configuration =
                haproxy_configuration(template, balancer_port, &deployment.instance_ports)?;
            let configuration_path = plan.directory.join("haproxy.cfg");
            fs::write(&configuration_path, configuration)
                .with_context(|| format!("writing {}", configuration_path.display()))?;
            let check = Command::new("haproxy")
                .arg("-c")
                .arg("-f")
                .arg(&configuration_path)
                .output()
                .context("running haproxy -c")?;
            ensure!(
                check.status.success(),
                "haproxy refuses the configuration made from {HAPROXY_TEMPLATE}: {}{}",
                String::from_utf8_lossy(&check.stdout),
                String::from_utf8_lossy(&check.stderr)
            );
            let mut haproxy = Command::new("haproxy");
            haproxy.arg("-f").arg(&configuration_path).arg("-db");
            deployment.spawn("haproxy", haproxy, plan.logs, balancer_port)?;
            deployment.balancer_port = Some(balancer_port);
        }
        Ok(deployment)
    }

    /// Starts `command` as `name`, its output in `<logs>/<name>.log`, and waits until it
    /// listens on `port`; returns its process id.
    fn spawn(&mut self, name: &str, mut command: Command, logs: &Path, port: u16) -> Result<u32> {
        let log = logs.join(format!("{name}.log"));
        let file = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let errors = file.try_clone().context("sharing the log file")?;
        let child = command
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(errors)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        self.processes.push(Process {
            name: name.to_owned(),
            log,
            child,
        });
        let process = self.processes.last_mut().expect("just pushed");
        conformance::wait_until_listening(&mut process.child, port).with_context(|| {
            format!(
                "{name} did not start (see {}): {}",
                process.log.display(),
                tail_of(&process.log)
            )
        })?;
        Ok(process.child.id())
    }

    /// The port clients connect to: the balancer's, or else the first instance's.
    pub(crate) fn port(&self) -> u16 {
        self.balancer_port.unwrap_or(self.instance_ports[0])
    }

    /// The MCP endpoint clients use.
    pub(crate) fn url(&self) -> String {
        format!("http://localhost:{}/mcp", self.port())
    }

    /// Fails when a process of the deployment has exited.
    pub(crate) fn check_running(&mut self) -> Result<()> {
        for process in &mut self.processes {
            if let Some(status) = process
                .child
                .try_wait()
                .with_context(|| format!("checking on {}", process.name))?
            {
                bail!(
                    "{} exited with {status} during the run (see {}): {}",
                    process.name,
                    process.log.display(),
                    tail_of(&process.log)
                );
            }
        }
        Ok(())
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        // The balancer first, Redis last.
        while let Some(mut process) = self.processes.pop() {
            conformance::stop(&mut process.child);
        }
    }
}

/// The balancer's configuration from `deploy/haproxy.cfg.in`: listening on
/// `127.0.0.1:<balancer_port>`, with one backend server per port of `instance_ports`.
fn haproxy_configuration(
    template: &str,
    balancer_port: u16,
    instance_ports: &[u16],
) -> Result<String> {
    let mut servers = String::new();
    for (index, port) in instance_ports.iter().enumerate() {
        writeln!(
            servers,
            "    server mcpwire{} 127.0.0.1:{port} check",
            index + 1
        )
        .expect("writing to a String cannot fail");
    }
    ensure!(
        template.contains("bind @BIND@\n") && template.contains("\n@SERVERS@\n"),
        "{HAPROXY_TEMPLATE} must have the placeholders `bind @BIND@` and a line `@SERVERS@`"
    );
    let configuration = template
        .replace("@BIND@", &format!("127.0.0.1:{balancer_port}"))
        .replace("\n@SERVERS@\n", &format!("\n{servers}"));
    ensure!(
        !configuration
            .lines()
            .any(|line| !line.trim_start().starts_with('#') && line.contains('@')),
        "{HAPROXY_TEMPLATE} has a placeholder other than @BIND@ and @SERVERS@"
    );
    Ok(configuration)
}

/// The last lines of a log, to say why a process did not start.
pub(crate) fn tail_of(log: &Path) -> String {
    let text = fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}

/// Writes 32 random bytes as 64 hex digits to `path`, readable by its owner only.
fn write_random_key(path: &Path) -> Result<()> {
    let mut key = [0_u8; 32];
    getrandom::fill(&mut key).map_err(|error| anyhow::anyhow!("drawing a random key: {error}"))?;
    let hex: String = key.iter().map(|byte| format!("{byte:02x}")).collect();
    let mut file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    restrict_to_owner(path, 0o600)?;
    writeln!(file, "{hex}").with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_becomes_a_configuration_with_every_instance() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(HAPROXY_TEMPLATE);
        let template = fs::read_to_string(path).expect("the template");
        let configuration =
            haproxy_configuration(&template, 8080, &[8001, 8002, 8003]).expect("valid");
        assert!(configuration.contains("\n    bind 127.0.0.1:8080\n"));
        assert!(configuration.contains(
            "\n    server mcpwire1 127.0.0.1:8001 check\n    server mcpwire2 127.0.0.1:8002 check\n    server mcpwire3 127.0.0.1:8003 check\n"
        ));
        let settings: Vec<&str> = configuration
            .lines()
            .map(str::trim)
            .filter(|line| !line.starts_with('#'))
            .collect();
        assert!(settings.contains(&"balance roundrobin"));
        for sticky in [
            "cookie",
            "stick",
            "option prefer-last-server",
            "compression",
        ] {
            assert!(
                !settings.iter().any(|line| line.starts_with(sticky)),
                "the template configures `{sticky}`"
            );
        }
        assert!(haproxy_configuration("bind @BIND@\n@OTHER@\n@SERVERS@\n", 1, &[2]).is_err());
        assert!(haproxy_configuration("no placeholders\n", 1, &[2]).is_err());
    }
}
