//! The checks every client scenario makes, stricter than the official suite: the lifecycle's
//! order, request ids, and the Streamable HTTP transport's headers, sessions and exit.

use std::collections::HashSet;
use std::time::Duration;

use http::Method;

use crate::check::{Outcome, must, should};
use crate::client::mock::Seen;
use crate::client::process::{ClientRun, Ending};
use crate::client::scenarios::State;
use crate::client::{ClientCheck, Evaluated};

/// The revision the requirements are cited from.
const REVISION: &str = "2025-11-25";
/// The first revision with the `MCP-Protocol-Version` header.
const HEADER_REVISION: &str = "2025-06-18";

/// `initialize` comes first.
const INITIALIZE_FIRST: ClientCheck = ClientCheck {
    name: "initialize-first",
    title: "initialize is the client's first request",
    requirement: must(
        REVISION,
        "basic/lifecycle §Initialization",
        Some(15),
        "The initialization phase MUST be the first interaction between client and server.",
    ),
    official: false,
};

/// `notifications/initialized` after the result, before other requests.
const INITIALIZED: ClientCheck = ClientCheck {
    name: "initialized-notification",
    title: "notifications/initialized follows the initialize result, before any other request",
    requirement: must(
        REVISION,
        "basic/lifecycle §Initialization",
        Some(17),
        "After successful initialization, the client MUST send an initialized notification to indicate it is ready to begin normal operations; the client SHOULD NOT send requests other than pings before the server has responded to initialize.",
    ),
    official: false,
};

/// Request ids never reused.
const IDS_UNIQUE: ClientCheck = ClientCheck {
    name: "request-ids-unique",
    title: "no request id is used twice",
    requirement: must(
        REVISION,
        "basic/index §Requests",
        Some(3),
        "The request ID MUST NOT have been previously used by the requestor within the same session.",
    ),
    official: false,
};

/// The protocol version header.
const VERSION_HEADER: ClientCheck = ClientCheck {
    name: "protocol-version-header",
    title: "every request after initialize carries MCP-Protocol-Version with the negotiated version",
    requirement: must(
        REVISION,
        "basic/transports §Protocol Version Header",
        Some(23),
        "If using HTTP, the client MUST include the `MCP-Protocol-Version: <protocol-version>` HTTP header on all subsequent requests to the MCP server.",
    ),
    official: false,
};

/// The session id echoed.
const SESSION_ID: ClientCheck = ClientCheck {
    name: "session-id",
    title: "every request after initialize carries the session id the server issued",
    requirement: must(
        REVISION,
        "basic/transports §Session Management",
        Some(60),
        "If an `MCP-Session-Id` is returned by the server during initialization, clients using the Streamable HTTP transport MUST include it in the `MCP-Session-Id` header on all of their subsequent HTTP requests.",
    ),
    official: false,
};

/// `Accept` on POST.
const ACCEPT: ClientCheck = ClientCheck {
    name: "accept",
    title: "every POST accepts both application/json and text/event-stream",
    requirement: must(
        REVISION,
        "basic/transports §Sending Messages to the Server",
        Some(46),
        "The client MUST include an `Accept` header, listing both `application/json` and `text/event-stream` as supported content types.",
    ),
    official: false,
};

/// `Accept` on GET.
const GET_ACCEPT: ClientCheck = ClientCheck {
    name: "get-accept",
    title: "every GET accepts text/event-stream",
    requirement: must(
        REVISION,
        "basic/transports §Listening for Messages from the Server",
        Some(53),
        "The client MUST include an `Accept` header, listing `text/event-stream` as a supported content type.",
    ),
    official: false,
};

/// `Content-Type` on POST.
const CONTENT_TYPE: ClientCheck = ClientCheck {
    name: "content-type",
    title: "every POST body is sent as application/json",
    requirement: should(
        REVISION,
        "basic/transports §Sending Messages to the Server",
        Some(47),
        "The body of the POST request MUST be a single JSON-RPC request, notification, or response, sent as `Content-Type: application/json`.",
    ),
    official: false,
};

/// DELETE at the end of a session.
const SESSION_END: ClientCheck = ClientCheck {
    name: "session-end",
    title: "the client ends its session with DELETE",
    requirement: should(
        REVISION,
        "basic/transports §Session Management",
        Some(60),
        "Clients that no longer need a particular session SHOULD send an HTTP DELETE to the MCP endpoint with the `MCP-Session-Id` header, to explicitly terminate the session.",
    ),
    official: false,
};

/// The client's exit.
pub(crate) const EXIT: ClientCheck = ClientCheck {
    name: "exit",
    title: "the client runs the scenario to its end and exits 0 in time",
    requirement: must(
        REVISION,
        "official suite §client launch contract",
        None,
        "A scenario run fails when the client times out or exits with a non-zero status.",
    ),
    official: true,
};

/// The checks every scenario makes, in the order [`evaluate`] makes them.
pub(crate) const ALL: [ClientCheck; 10] = [
    INITIALIZE_FIRST,
    INITIALIZED,
    IDS_UNIQUE,
    VERSION_HEADER,
    SESSION_ID,
    ACCEPT,
    GET_ACCEPT,
    CONTENT_TYPE,
    SESSION_END,
    EXIT,
];

/// The checks every scenario makes.
pub(crate) fn evaluate(
    log: &[Seen],
    state: &State,
    run: &ClientRun,
    limit: Duration,
) -> Vec<Evaluated> {
    vec![
        (INITIALIZE_FIRST, initialize_first(log)),
        (INITIALIZED, initialized(log)),
        (IDS_UNIQUE, ids_unique(log)),
        (VERSION_HEADER, version_header(log, state)),
        (SESSION_ID, session_id(log, state)),
        (ACCEPT, accept(log)),
        (GET_ACCEPT, get_accept(log)),
        (CONTENT_TYPE, content_type(log)),
        (SESSION_END, session_end(log, state)),
        (EXIT, exit(run, limit)),
    ]
}

/// Whether `seen` is a POST of `initialize`.
fn is_initialize(seen: &Seen) -> bool {
    seen.method == Method::POST && seen.rpc_method() == Some("initialize")
}

/// The position of the first `initialize`.
fn initialize_position(log: &[Seen]) -> Option<usize> {
    log.iter().position(is_initialize)
}

/// `initialize` is the first request.
fn initialize_first(log: &[Seen]) -> Outcome {
    match log.first() {
        None => Outcome::Violated("the client sent nothing".to_owned()),
        Some(first) if is_initialize(first) => {
            Outcome::Pass("the first request was initialize".to_owned())
        }
        Some(first) => Outcome::Violated(format!("the first request was {}", first.describe())),
    }
}

/// `notifications/initialized` after `initialize`, before any other request but ping.
fn initialized(log: &[Seen]) -> Outcome {
    let Some(start) = initialize_position(log) else {
        return Outcome::Skip("the client sent no initialize request".to_owned());
    };
    let later = &log[start + 1..];
    let notified = later
        .iter()
        .position(|seen| seen.rpc_method() == Some("notifications/initialized"));
    let other = later.iter().position(|seen| {
        seen.is_rpc_request() && !matches!(seen.rpc_method(), Some("ping" | "initialize"))
    });
    match (notified, other) {
        (None, _) => Outcome::Violated(
            "the client never sent notifications/initialized after initialize".to_owned(),
        ),
        (Some(notified), Some(other)) if other < notified => Outcome::Violated(format!(
            "{} came before notifications/initialized",
            later[other].describe()
        )),
        (Some(_), Some(other)) => Outcome::Pass(format!(
            "notifications/initialized came after the initialize result and before {}",
            later[other].describe()
        )),
        (Some(_), None) => {
            Outcome::Pass("notifications/initialized came after the initialize result".to_owned())
        }
    }
}

/// No request id is used twice.
fn ids_unique(log: &[Seen]) -> Outcome {
    let mut seen_ids = HashSet::new();
    let mut count = 0;
    for seen in log.iter().filter(|seen| seen.is_rpc_request()) {
        let Some(id) = seen.rpc_id() else {
            continue;
        };
        count += 1;
        if !seen_ids.insert(id.to_string()) {
            return Outcome::Violated(format!("id {id} was used again by {}", seen.describe()));
        }
    }
    Outcome::Pass(format!("{count} request(s), each with its own id"))
}

/// `MCP-Protocol-Version` on every request after `initialize`.
fn version_header(log: &[Seen], state: &State) -> Outcome {
    let (Some(start), Some(negotiated)) = (initialize_position(log), state.negotiated.as_deref())
    else {
        return Outcome::Skip("no initialize was answered".to_owned());
    };
    // The header was defined in 2025-06-18; a 2025-03-26 session may go without it.
    let optional = negotiated < HEADER_REVISION;
    let mut count = 0;
    for seen in log[start + 1..].iter().filter(|seen| !is_initialize(seen)) {
        count += 1;
        match seen.header("mcp-protocol-version") {
            Some(version) if version == negotiated => {}
            None if optional => {}
            Some(version) => {
                return Outcome::Violated(format!(
                    "{} carries MCP-Protocol-Version `{version}`, not the negotiated `{negotiated}`",
                    seen.describe()
                ));
            }
            None => {
                return Outcome::Violated(format!(
                    "{} carries no MCP-Protocol-Version (negotiated `{negotiated}`)",
                    seen.describe()
                ));
            }
        }
    }
    if count == 0 {
        return Outcome::Skip("the client sent nothing after initialize".to_owned());
    }
    Outcome::Pass(format!(
        "{count} request(s) after initialize, each with `{negotiated}`{}",
        if optional {
            " or none (the header is newer than the revision)"
        } else {
            ""
        }
    ))
}

/// The session id on every request after `initialize`.
fn session_id(log: &[Seen], state: &State) -> Outcome {
    if state.sessions.is_empty() {
        return Outcome::Skip("the mock issued no session id in this scenario".to_owned());
    }
    let Some(start) = initialize_position(log) else {
        return Outcome::Skip("the client sent no initialize request".to_owned());
    };
    let mut count = 0;
    for seen in log[start + 1..].iter().filter(|seen| !is_initialize(seen)) {
        count += 1;
        match seen.header("mcp-session-id") {
            Some(id) if state.sessions.iter().any(|issued| issued == id) => {}
            Some(id) => {
                return Outcome::Violated(format!(
                    "{} carries MCP-Session-Id `{id}`, which the server never issued",
                    seen.describe()
                ));
            }
            None => {
                return Outcome::Violated(format!("{} carries no MCP-Session-Id", seen.describe()));
            }
        }
    }
    Outcome::Pass(format!(
        "{count} request(s) after initialize, each with the session id"
    ))
}

/// Whether the `Accept` header of `seen` lists `media_type`.
fn accepts(seen: &Seen, media_type: &str) -> bool {
    seen.headers
        .get_all(http::header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|listed| {
            listed
                .split(';')
                .next()
                .is_some_and(|listed| listed.trim().eq_ignore_ascii_case(media_type))
        })
}

/// `Accept` of every POST lists both types.
fn accept(log: &[Seen]) -> Outcome {
    let posts: Vec<&Seen> = log
        .iter()
        .filter(|seen| seen.method == Method::POST)
        .collect();
    if posts.is_empty() {
        return Outcome::Skip("the client sent no POST".to_owned());
    }
    for seen in &posts {
        if !(accepts(seen, "application/json") && accepts(seen, "text/event-stream")) {
            return Outcome::Violated(format!(
                "{} has Accept `{}`",
                seen.describe(),
                seen.header("accept").unwrap_or("(none)")
            ));
        }
    }
    Outcome::Pass(format!("{} POST(s), each accepting both", posts.len()))
}

/// `Accept` of every GET lists SSE.
fn get_accept(log: &[Seen]) -> Outcome {
    let gets: Vec<&Seen> = log
        .iter()
        .filter(|seen| seen.method == Method::GET)
        .collect();
    if gets.is_empty() {
        return Outcome::Skip("the client sent no GET".to_owned());
    }
    for seen in &gets {
        if !accepts(seen, "text/event-stream") {
            return Outcome::Violated(format!(
                "{} has Accept `{}`",
                seen.describe(),
                seen.header("accept").unwrap_or("(none)")
            ));
        }
    }
    Outcome::Pass(format!(
        "{} GET(s), each accepting text/event-stream",
        gets.len()
    ))
}

/// `Content-Type` of every POST is JSON.
fn content_type(log: &[Seen]) -> Outcome {
    let posts: Vec<&Seen> = log
        .iter()
        .filter(|seen| seen.method == Method::POST)
        .collect();
    if posts.is_empty() {
        return Outcome::Skip("the client sent no POST".to_owned());
    }
    for seen in &posts {
        let json = seen.header("content-type").is_some_and(|value| {
            value.split(';').next().is_some_and(|media_type| {
                media_type.trim().eq_ignore_ascii_case("application/json")
            })
        });
        if !json {
            return Outcome::Violated(format!(
                "{} has Content-Type `{}`",
                seen.describe(),
                seen.header("content-type").unwrap_or("(none)")
            ));
        }
    }
    Outcome::Pass(format!("{} POST(s), each application/json", posts.len()))
}

/// A DELETE with the session id ends the session.
fn session_end(log: &[Seen], state: &State) -> Outcome {
    if state.sessions.is_empty() {
        return Outcome::Skip("the mock issued no session id in this scenario".to_owned());
    }
    let deletes: Vec<&Seen> = log
        .iter()
        .filter(|seen| seen.method == Method::DELETE)
        .collect();
    match deletes.last() {
        None => Outcome::Violated("the client left without a DELETE of its session".to_owned()),
        Some(delete) => match delete.header("mcp-session-id") {
            Some(id) if state.sessions.iter().any(|issued| issued == id) => {
                Outcome::Pass(format!("DELETE {} with MCP-Session-Id `{id}`", delete.path))
            }
            Some(id) => Outcome::Violated(format!(
                "the DELETE names session `{id}`, which was never issued"
            )),
            None => Outcome::Violated("the DELETE carries no MCP-Session-Id".to_owned()),
        },
    }
}

/// The client exited 0 before the time limit.
fn exit(run: &ClientRun, limit: Duration) -> Outcome {
    let output = if run.output.is_empty() {
        String::new()
    } else {
        format!("; its output ended with: {}", crate::clip(&run.output))
    };
    match &run.ending {
        Ending::Exited(Some(0)) => Outcome::Pass("the client exited 0".to_owned()),
        Ending::Exited(Some(code)) => {
            Outcome::Violated(format!("the client exited {code}{output}"))
        }
        Ending::Exited(None) => {
            Outcome::Violated(format!("the client was killed by a signal{output}"))
        }
        Ending::TimedOut => Outcome::Violated(format!(
            "the client was still running after {} s and was killed{output}",
            limit.as_secs()
        )),
        Ending::NotStarted(error) => Outcome::Violated(error.clone()),
    }
}
