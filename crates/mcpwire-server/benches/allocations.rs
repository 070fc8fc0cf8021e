//! Heap allocations of the request path, counted by a global allocator that wraps the
//! system's.
//!
//! This is a binary of its own because the counting allocator adds atomic operations to every
//! allocation, which would slow the timings of `request_path` down. Everything runs on one
//! thread, so the counts are those of the measured work alone.
//!
//! Run with `cargo bench -p mcpwire-server --bench allocations`.

mod support;

use std::alloc::System;
use std::hint::black_box;

use mcpwire_jsonrpc::Message;
use mcpwire_server::types as wire;
use mcpwire_server::{IntoToolResult, Structured};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, Stats, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Operations per measurement; the counts printed are per operation.
const OPERATIONS: usize = 1000;

/// Runs `operation` [`OPERATIONS`] times and prints its allocations per operation.
fn count(name: &str, mut operation: impl FnMut()) {
    // Warm up first, so that buffers grown once and kept are not counted.
    for _ in 0..OPERATIONS / 10 {
        operation();
    }
    let region = Region::new(GLOBAL);
    for _ in 0..OPERATIONS {
        operation();
    }
    report(name, &region.change());
}

fn report(name: &str, stats: &Stats) {
    let per_operation = |total: usize| total as f64 / OPERATIONS as f64;
    println!(
        "{name:<32} {:>7.1} allocations {:>7.1} reallocations {:>9.1} bytes per operation",
        per_operation(stats.allocations),
        per_operation(stats.reallocations),
        per_operation(stats.bytes_allocated),
    );
}

fn main() {
    let runtime = support::current_thread_runtime();
    let server = support::server();
    let add = support::call_params("add");
    let add_text = support::call_params("add_text");

    let connection = runtime.block_on(support::connect_in_memory(&server));
    count("tools_call/in_memory", || {
        black_box(runtime.block_on(connection.call(&add)));
    });
    count("tools_call/in_memory_text", || {
        black_box(runtime.block_on(connection.call(&add_text)));
    });
    runtime.block_on(connection.close());

    let connection = runtime.block_on(support::connect_stdio(&server));
    count("tools_call/stdio_pipes", || {
        black_box(runtime.block_on(connection.call(&add)));
    });
    runtime.block_on(connection.close());

    let bytes = support::tools_call_bytes();
    count("envelope/parse_tools_call", || {
        black_box(Message::parse(black_box(&bytes)).expect("the request parses"));
    });
    let Ok(Message::Request(request)) = Message::parse(&bytes) else {
        panic!("the benchmark's tools/call request parses");
    };
    let params = request.params.expect("tools/call has params");
    count("schema/decode_call_tool_params", || {
        black_box(
            mcpwire_jsonrpc::decode_params::<wire::CallToolRequestParams>(Some(black_box(&params)))
                .expect("the params decode"),
        );
    });

    // The steps of the server's work that allocate most; see `request_path`'s `steps` group.
    let tool = support::add_tool().build().expect("the add tool is valid");
    count("steps/tool_clone", || {
        black_box(black_box(&tool).clone());
    });
    count("steps/structured_result", || {
        black_box(
            Structured(support::Sum {
                sum: black_box(3.75),
            })
            .into_tool_result(),
        );
    });
    let result = support::add_result();
    count("steps/encode_result", || {
        black_box(serde_json::value::to_raw_value(black_box(&result)).expect("the result encodes"));
    });
}
