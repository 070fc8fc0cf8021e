//! Starting `mcpwire serve --http` for the tests.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// Starts `mcpwire serve --http 127.0.0.1:0 <extra>` and returns it with the URL it announced.
pub(crate) async fn start(extra: &[&str]) -> (tokio::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcpwire"))
        .args(["serve", "--http", "127.0.0.1:0"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("mcpwire starts");
    let stderr = child.stderr.take().expect("piped stderr");
    let mut lines = BufReader::new(stderr).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        // The banner is the first line; a few log lines at most may come before it.
        for _ in 0..20 {
            let line = lines.next_line().await.expect("stderr").expect("a banner");
            if let Some(start) = line.find("http://") {
                let url = &line[start..];
                return url.split_whitespace().next().expect("url").to_owned();
            }
        }
        panic!("no URL in the banner");
    })
    .await
    .expect("the banner comes in time");
    (child, url)
}
