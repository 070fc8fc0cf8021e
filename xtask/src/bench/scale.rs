//! The `scale` suite: 16 HTTP clients calling `echo` back to back, in both eras, against
//! one instance in memory, one on Redis, and three on Redis behind HAProxy.

use std::fs;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, Result};

use super::{Bench, Derived, Table};
use crate::deployment::{Deployment, HAPROXY_TEMPLATE, Plan, TemporaryDirectory};

/// The clients of every measurement, each with its own connection.
const CLIENTS: usize = 16;

/// Bytes of the echoed text.
const ECHO_BYTES: usize = 100;

/// The eras, as `mcpwire-bench --era` names them.
const ERAS: [&str; 2] = ["legacy", "modern"];

/// The deployments: name, instances, Redis, balancer.
const DEPLOYMENTS: [(&str, usize, bool, bool); 3] = [
    ("1 instance, memory", 1, false, false),
    ("1 instance, Redis", 1, true, false),
    ("3 instances, Redis, HAProxy", 3, true, true),
];

/// The columns of the table, in order.
const COLUMNS: [&str; 5] = [
    "req/s",
    "p50 µs",
    "p99 µs",
    "server CPU µs/req",
    "Redis commands/req",
];

pub(crate) fn run(bench: &Bench) -> Result<Table> {
    let template = bench.root.join(HAPROXY_TEMPLATE);
    let template =
        fs::read_to_string(&template).with_context(|| format!("reading {}", template.display()))?;
    // Declared before the deployments, so that it is removed after their processes stop.
    let temporary = TemporaryDirectory::create("bench")?;
    let mut deployments = Vec::new();
    for (index, (name, instances, redis, balanced)) in DEPLOYMENTS.into_iter().enumerate() {
        let directory = temporary.path.join(format!("deployment-{index}"));
        fs::create_dir_all(&directory)
            .with_context(|| format!("creating {}", directory.display()))?;
        let deployment = Deployment::start(&Plan {
            instance: &|port| {
                let mut command = Command::new(&bench.mcpwire);
                command.args(["serve", "--http", &format!("127.0.0.1:{port}")]);
                command
            },
            name: &format!("scale-{index}-mcpwire"),
            redis,
            balancer: balanced.then_some(template.as_str()),
            directory: &directory,
            logs: &bench.logs,
            instances,
        })?;
        println!("bench: scale: {name} at {}", deployment.url());
        deployments.push(deployment);
    }

    let rows: Vec<String> = ERAS
        .iter()
        .flat_map(|era| {
            DEPLOYMENTS
                .iter()
                .map(move |(name, ..)| format!("{era}, {name}"))
        })
        .collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let mut table = Table::new(
        &format!("scale: HTTP, {CLIENTS} clients, tools/call echo ({ECHO_BYTES} B)"),
        &rows,
        &COLUMNS,
    );
    // Each deployment's throughput against one instance in memory of the same era.
    table.derive(Derived {
        name: "req/s ÷ memory".to_owned(),
        numerator: Box::new(|row| Some((row, 0))),
        denominator: Box::new(|row| Some((row - row % DEPLOYMENTS.len(), 0))),
    });

    let limit = Duration::from_secs_f64(bench.effort.seconds * 4.0 + 60.0);
    for round in 1..=bench.runs {
        println!("bench: scale: round {round} of {}", bench.runs);
        for (era_index, era) in ERAS.iter().enumerate() {
            for (index, deployment) in deployments.iter_mut().enumerate() {
                let mut loader = Command::new(&bench.loader);
                loader
                    .args(["http", &deployment.url(), "--era", era])
                    .args(["--clients", &CLIENTS.to_string()])
                    .args(["--bytes", &ECHO_BYTES.to_string()])
                    .args(["--duration", &bench.effort.seconds.to_string()])
                    .args(["--warmup", &bench.effort.warmup.to_string()]);
                for pid in &deployment.instance_pids {
                    loader.args(["--pid", &pid.to_string()]);
                }
                if let Some(port) = deployment.redis_port {
                    loader.args(["--redis-port", &port.to_string()]);
                }
                let result = bench.measure(loader, "scale-loader", limit)?;
                let row = era_index * DEPLOYMENTS.len() + index;
                let latency = &result["latency_us"];
                let values = [
                    result["rps"].as_f64(),
                    latency["p50_us"].as_f64(),
                    latency["p99_us"].as_f64(),
                    result["server_cpu_us_per_req"].as_f64(),
                    // No Redis, no commands.
                    result["redis_commands_per_req"]
                        .as_f64()
                        .or(deployment.redis_port.is_none().then_some(0.0)),
                ];
                for (column, value) in values.into_iter().enumerate() {
                    table.record(row, column, value);
                }
                deployment.check_running()?;
            }
        }
    }
    drop(deployments);
    drop(temporary);
    Ok(table)
}
