//! Readings taken at the start and end of the measured phase: the servers' CPU time from
//! `/proc`, and Redis's count of commands processed.

use std::process::Command;

/// Clock ticks per second of `/proc/PID/stat`'s times (`USER_HZ`), 100 on every Linux
/// configuration this runs on.
const TICKS_PER_SECOND: f64 = 100.0;

/// The CPU time, user and system, all threads, that process `pid` has used so far, in
/// seconds; `None` when it cannot be read.
pub(crate) fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    cpu_seconds_of_stat(&stat)
}

fn cpu_seconds_of_stat(stat: &str) -> Option<f64> {
    // The command name, in parentheses, may hold spaces: count fields after its end. There
    // the state is the first field, so utime (field 14 of the line) is the twelfth.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some((user + system) as f64 / TICKS_PER_SECOND)
}

/// The sum of [`cpu_seconds`] over `pids`; `None` if any cannot be read.
pub(crate) fn total_cpu_seconds(pids: &[u32]) -> Option<f64> {
    pids.iter().map(|&pid| cpu_seconds(pid)).sum()
}

/// `total_commands_processed` of the Redis on loopback `port`, from `redis-cli INFO stats`;
/// `None` when it cannot be read. The reading is itself one command.
pub(crate) fn redis_commands(port: u16) -> Option<u64> {
    let output = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "INFO", "stats"])
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    commands_of_info(&String::from_utf8_lossy(&output.stdout))
}

fn commands_of_info(info: &str) -> Option<u64> {
    info.lines()
        .find_map(|line| line.strip_prefix("total_commands_processed:"))
        .and_then(|value| value.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_read_after_a_name_with_spaces() {
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1000 1 1";
        assert_eq!(cpu_seconds_of_stat(stat), Some(3.0));
        assert_eq!(cpu_seconds_of_stat("42 (x) S 1"), None);
    }

    #[test]
    fn the_command_count_comes_from_its_line() {
        let info = "# Stats\r\ntotal_connections_received:3\r\ntotal_commands_processed:1234\r\n";
        assert_eq!(commands_of_info(info), Some(1234));
        assert_eq!(commands_of_info("# Stats\r\n"), None);
    }
}
