//! `cargo xtask scale [--suite NAME] [--instances N]`: the official conformance suite's server
//! scenarios through a load balancer, against several `conformance-server` instances that
//! share one Redis.
//!
//! The deployment is `deploy/`'s, run on loopback:
//!
//! 1. `redis-server` and `haproxy` are installed with `apt-get` when missing, as
//!    `cargo xtask interop-setup` installs them;
//!    the suite is installed and the binaries built as `cargo xtask conformance` does.
//! 2. A fresh temporary directory holds Redis's working directory, a random `requestState`
//!    key (64 hex digits, readable by its owner only) and the HAProxy configuration; it is
//!    removed at the end.
//! 3. One `redis-server` on a free loopback port, with no persistence (`--save ''
//!    --appendonly no`); three (`--instances N`) `conformance-server --http --port P --redis
//!    redis://127.0.0.1:RP --redis-prefix mcpwire-scale --request-state-key-file KEY`; and
//!    HAProxy (`haproxy -f CFG -db`, a child in the foreground) from
//!    `deploy/haproxy.cfg.in`, listening on a free loopback port with the instances as its
//!    round-robin backends, no stickiness. Each is waited for until it listens.
//! 4. The server legs of `0.2.0-alpha.12` (`--requirements 2025-11-25`) and
//!    `0.2.0-alpha.12@2026-07-28` run against `http://localhost:BALANCER_PORT/mcp`, exactly as
//!    `cargo xtask conformance --leg server` runs them against one instance; after each leg,
//!    every process must still be running.
//! 5. Each scenario's verdict is judged against what one instance gives: it must pass, unless
//!    `conformance/expected-failures.json` lists it. The per-scenario table ends with
//!    `scale: N passed, N failed`, and the task fails on any unexpected outcome.
//! 6. Unless `--no-interop`: the interop suite's HTTP cases, in which the TypeScript and
//!    Python SDKs' clients drive our `interop_peer` example (`*_http` of
//!    `interop/tests/server_dual_era_clients.rs`), run against three more deployments like
//!    the first, one per era the example serves (`--era both`, `modern`, `legacy`), named to
//!    the tests by `MCPWIRE_INTEROP_HTTP_URL_INTEROP_PEER_<ERA>`; each must pass.
//!
//! Every process started is killed by its PID and reaped when the task ends, also when it
//! fails: the deployment stops when it is dropped. The logs of Redis, of each instance and of
//! HAProxy, and the suite's results, stay in `<target dir>/scale/`.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result, bail, ensure};

use crate::conformance::{self, Leg, Outcome, SUITES, Suite, Toolchain, fresh_directory};
use crate::deployment::{Deployment, HAPROXY_TEMPLATE, Plan, TemporaryDirectory};
use crate::interop::setup_debian_servers;

/// The suites whose server legs run through the balancer: those with the requirements of a
/// protocol revision, one of each era.
const SCALE_SUITES: &[&str] = &["0.2.0-alpha.12", "0.2.0-alpha.12@2026-07-28"];

/// How many instances run behind the balancer by default.
const DEFAULT_INSTANCES: usize = 3;

/// The most instances `--instances` may ask for on a small machine.
const MAX_INSTANCES: usize = 16;

/// The prefix of the deployment's Redis keys.
const REDIS_PREFIX: &str = "mcpwire-scale";

/// What the command was asked to run.
struct Options {
    suites: Vec<&'static Suite>,
    instances: usize,
    interop: bool,
}

fn parse_options(arguments: &[String]) -> Result<Options> {
    let usage = format!(
        "usage: cargo xtask scale [--suite {}] [--instances N (1 to {MAX_INSTANCES}, default {DEFAULT_INSTANCES})] [--no-interop]",
        SCALE_SUITES.join("|")
    );
    let mut names: Vec<&str> = SCALE_SUITES.to_vec();
    let mut instances = DEFAULT_INSTANCES;
    let mut interop = true;
    let mut arguments = arguments.iter();
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--suite" => {
                let Some(name) = arguments.next() else {
                    bail!("`--suite` needs a name; {usage}");
                };
                let Some(known) = SCALE_SUITES.iter().find(|known| *known == name) else {
                    bail!("`--suite {name}` is not run through the balancer; {usage}");
                };
                names = vec![known];
            }
            "--instances" => {
                let value = arguments.next().map(String::as_str).unwrap_or_default();
                instances = match value.parse::<usize>() {
                    Ok(count) if (1..=MAX_INSTANCES).contains(&count) => count,
                    _ => bail!("`--instances` takes 1 to {MAX_INSTANCES}, not `{value}`; {usage}"),
                };
            }
            "--no-interop" => interop = false,
            other => bail!("unknown argument `{other}`; {usage}"),
        }
    }
    let suites = names
        .iter()
        .map(|name| {
            SUITES
                .iter()
                .find(|suite| suite.name == *name)
                .expect("every suite run through the balancer is a suite of the conformance task")
        })
        .collect();
    Ok(Options {
        suites,
        instances,
        interop,
    })
}

pub(crate) fn run(root: &Path, arguments: &[String]) -> Result<()> {
    let options = parse_options(arguments)?;
    // `redis-server` and `haproxy`, as `cargo xtask interop-setup` installs them.
    setup_debian_servers()?;
    let toolchain = Toolchain::prepare(root)?;
    let template = root.join(HAPROXY_TEMPLATE);
    let template =
        fs::read_to_string(&template).with_context(|| format!("reading {}", template.display()))?;
    let logs = toolchain.target.join("scale");
    fresh_directory(&logs)?;

    // Declared before the deployment, so that it is removed after the processes are stopped.
    let temporary = TemporaryDirectory::create("scale")?;
    let started = std::time::Instant::now();
    let server = &toolchain.binaries.server;
    let mut deployment = Deployment::start(&Plan {
        instance: &|port| {
            let mut command = Command::new(server);
            command.args(["--http", "--port", &port.to_string()]);
            command.args(["--redis-prefix", REDIS_PREFIX]);
            command
        },
        name: "conformance",
        redis: true,
        balancer: Some(&template),
        directory: &temporary.path,
        logs: &logs,
        instances: options.instances,
    })?;
    println!(
        "scale: {} instances of conformance-server behind HAProxy at {}, sharing redis://127.0.0.1:{} (logs in {})",
        options.instances,
        deployment.url(),
        deployment
            .redis_port
            .expect("the deployment was planned with Redis"),
        logs.display()
    );

    let mut outcomes = Vec::new();
    for suite in &options.suites {
        let runner = toolchain.runner(suite, logs.join("results").join(suite.name))?;
        let scenarios = runner.list(Leg::Server)?;
        toolchain
            .expected
            .check_entries(suite.name, Leg::Server, &scenarios)?;
        println!(
            "scale: {} server leg, {} scenarios through the balancer",
            suite.name,
            scenarios.len()
        );
        for (scenario, result) in runner.drive_server(deployment.port(), &scenarios)? {
            let reason = toolchain
                .expected
                .reason(suite.name, Leg::Server, &scenario);
            outcomes.push(Outcome::new(
                suite.name,
                Leg::Server,
                &scenario,
                result,
                reason,
            ));
        }
        deployment.check_running()?;
    }
    drop(deployment);
    println!("scale: the deployment ran for {:.0?}", started.elapsed());
    let interop = if options.interop {
        interop_through_balancers(root, &template, &temporary.path, &logs, options.instances)
    } else {
        Ok(())
    };
    drop(temporary);
    let conformance = conformance::report("scale", &outcomes);
    interop.and(conformance)
}

/// The eras of the `interop_peer` deployments, as `--era` names them.
const INTEROP_ERAS: [&str; 3] = ["both", "modern", "legacy"];

/// Runs the interop suite's HTTP cases of SDK clients against three deployments of the
/// `interop_peer` example, one per era it serves.
fn interop_through_balancers(
    root: &Path,
    template: &str,
    directory: &Path,
    logs: &Path,
    instances: usize,
) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    // The features `cargo xtask ci` tests with, so that its build is reused.
    let built = Command::new(&cargo)
        .args(["build", "--workspace", "--all-features", "--quiet"])
        .args(["--example", "interop_peer"])
        .current_dir(root)
        .status()
        .context("building the interop_peer example")?;
    ensure!(built.success(), "building the interop_peer example failed");
    let peer = crate::interop::target_dir(root)?
        .join("debug")
        .join("examples")
        .join("interop_peer");
    let mut deployments = Vec::new();
    let mut variables = Vec::new();
    for era in INTEROP_ERAS {
        let place = directory.join(format!("interop-{era}"));
        let place_logs = logs.join(format!("interop-{era}"));
        fresh_directory(&place)?;
        fresh_directory(&place_logs)?;
        let deployment = Deployment::start(&Plan {
            instance: &|port| {
                let mut command = Command::new(&peer);
                command.args(["--era", era, "--http", &format!("127.0.0.1:{port}")]);
                command
            },
            name: "interop_peer",
            redis: true,
            balancer: Some(template),
            directory: &place,
            logs: &place_logs,
            instances,
        })?;
        variables.push((
            format!(
                "MCPWIRE_INTEROP_HTTP_URL_INTEROP_PEER_{}",
                era.to_ascii_uppercase()
            ),
            deployment.url(),
        ));
        deployments.push(deployment);
    }
    println!(
        "scale: the interop suite's HTTP cases of SDK clients, through {} deployments of {instances} interop_peer instances",
        deployments.len()
    );
    let filter = "package(mcpwire-interop) & binary(server_dual_era_clients) & test(/_http$/)";
    let mut tests = Command::new(&cargo);
    if crate::interop::has_nextest(root) {
        tests.args(["nextest", "run", "--workspace", "--all-features"]);
        tests.args(["--cargo-quiet", "--no-fail-fast", "-E", filter]);
    } else {
        tests.args(["test", "--workspace", "--all-features", "--quiet"]);
        tests.args(["--test", "server_dual_era_clients", "--", "_http"]);
    }
    let status = tests
        .envs(variables)
        .current_dir(root)
        .status()
        .context("running the interop suite's HTTP cases")?;
    for deployment in &mut deployments {
        deployment.check_running()?;
    }
    drop(deployments);
    ensure!(
        status.success(),
        "the interop suite's HTTP cases failed through the balancer (logs in {})",
        logs.display()
    );
    println!("scale: the interop suite's HTTP cases passed through the balancer");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_options_name_suites_run_through_the_balancer_and_a_bounded_count() {
        let options = |arguments: &[&str]| {
            parse_options(
                &arguments
                    .iter()
                    .map(|&argument| argument.to_owned())
                    .collect::<Vec<_>>(),
            )
        };
        let defaults = options(&[]).expect("the defaults");
        assert_eq!(defaults.instances, DEFAULT_INSTANCES);
        let names: Vec<&str> = defaults.suites.iter().map(|suite| suite.name).collect();
        assert_eq!(names, SCALE_SUITES);
        let one =
            options(&["--suite", "0.2.0-alpha.12@2026-07-28", "--instances", "2"]).expect("valid");
        assert_eq!(one.instances, 2);
        assert_eq!(one.suites.len(), 1);
        for bad in [
            &["--suite", "0.1.16"][..],
            &["--instances", "0"],
            &["--instances", "17"],
            &["--instances"],
            &["--leg", "server"],
        ] {
            assert!(options(bad).is_err(), "{bad:?}");
        }
    }
}
