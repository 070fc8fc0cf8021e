//! `stdio()` over a real process's stdin and stdout: the `echo_server` example, driven through
//! pipes.

#![cfg(unix)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// Requests sent in one burst: many more than the writer's queue holds.
const BURST: u64 = 2000;

/// The built example `echo_server`: `target/<profile>/examples/echo_server`, beside `deps/`
/// where this test runs from.
fn echo_server() -> Child {
    let test = std::env::current_exe().expect("the test's path");
    let profile = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let path: PathBuf = profile.join("examples").join("echo_server");
    assert!(path.exists(), "{} was not built", path.display());
    Command::new(path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the example starts")
}

fn request(id: u64) -> String {
    format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"echo\",\"params\":{{\"n\":{id}}}}}\n")
}

#[test]
fn every_request_of_a_burst_is_answered_on_one_line() {
    let mut child = echo_server();
    let mut stdin = child.stdin.take().expect("piped");
    // Written from a thread while the answers are read here, so that neither pipe fills up
    // with nobody emptying it.
    let writer = std::thread::spawn(move || {
        let mut input = String::from("\n  \r\n{not json}\r\n");
        for id in 0..=BURST {
            input.push_str(&request(id));
        }
        stdin.write_all(input.as_bytes()).expect("the server reads");
        stdin
    });
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut lines = Vec::new();
    for _ in 0..BURST + 2 {
        let mut line = String::new();
        stdout.read_line(&mut line).expect("UTF-8 lines");
        assert!(line.ends_with('\n'), "the server ended early: {line:?}");
        lines.push(line);
    }
    // The end of input ends the server, with nothing more written.
    drop(writer.join().expect("the writer thread ends"));
    let mut rest = String::new();
    stdout.read_line(&mut rest).expect("UTF-8");
    assert_eq!(rest, "");
    let status = child.wait().expect("the server exits");
    assert!(status.success(), "{status}");

    assert_eq!(lines.len() as u64, BURST + 2, "one line per answer");
    let mut answered = BTreeSet::new();
    let mut parse_errors = 0;
    for line in &lines {
        let answer: Value = serde_json::from_str(line).expect("each line is one JSON value");
        match &answer["id"] {
            Value::Null => {
                assert_eq!(answer["error"]["code"], -32700, "{line}");
                parse_errors += 1;
            }
            id => {
                let id = id.as_u64().expect("a numeric id");
                // The engine may refuse requests beyond its limits; each is answered either way.
                if answer["error"]["code"] != -32000 {
                    assert_eq!(answer["result"]["n"], id, "{line}");
                }
                assert!(answered.insert(id), "answered twice: {line}");
            }
        }
    }
    assert_eq!(parse_errors, 1);
    assert_eq!(answered, (0..=BURST).collect());
}

#[test]
fn a_server_whose_stdout_is_closed_exits_while_its_stdin_is_still_open() {
    let mut child = echo_server();
    let mut stdin = child.stdin.take().expect("piped");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    stdin
        .write_all(request(0).as_bytes())
        .expect("the server reads");
    let mut first = String::new();
    stdout.read_line(&mut first).expect("the first answer");
    assert_eq!(
        first,
        "{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":{\"n\":0}}\n"
    );
    drop(stdout);
    // Answers now fail to be written, which closes the connection; the server may exit before
    // reading all of this, so a failed write here is expected too.
    for id in 1..=BURST {
        if stdin.write_all(request(id).as_bytes()).is_err() {
            break;
        }
    }
    // Stdin stays open until the server has exited: its blocked read of stdin does not keep
    // it alive.
    let status = child.wait().expect("the server exits");
    assert!(status.success(), "{status}");
    drop(stdin);
}
