//! Benchmarks of the server's request path.
//!
//! - `tools_call/*`: one `tools/call` round trip between a client `Peer` and a `Server`
//!   session after the handshake: the client encodes the params, the server decodes them,
//!   finds the tool, validates the arguments, runs the handler, validates and encodes the
//!   result, and the client decodes it. `in_memory` passes messages as values;
//!   `stdio_pipes` adds the stdio framing (serializing, newline framing, strict parsing) over
//!   in-process pipes. `concurrent_16` keeps 16 calls in flight and reports throughput.
//!   Each runs on a current-thread runtime, where every task of both peers shares the
//!   benchmark's thread; the `*_multi_thread` variants run the peers on two workers.
//! - `envelope/*`, `schema/*`: the parsing steps alone.
//! - `steps/*`: the server's work around the handler, one public API call at a time, to tell
//!   where the time of a round trip goes.
//!
//! Run with `cargo bench -p mcpwire-server --bench request_path`; on a small shared machine
//! add `-- --warm-up-time 1 --measurement-time 3`.

mod support;

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use mcpwire_jsonrpc::Message;
use mcpwire_rpc::Peer;
use mcpwire_server::types::{self as wire, methods};
use mcpwire_server::{IntoToolResult, Structured};
use serde_json::Value;
use support::Sum;
use tokio::runtime::Runtime;
use tokio::task::JoinSet;

/// Calls in flight at once in the concurrent benchmark.
const CONCURRENT_CALLS: usize = 16;

fn tools_call(criterion: &mut Criterion) {
    let server = support::server();
    let add = support::call_params("add");
    let add_text = support::call_params("add_text");
    let mut group = criterion.benchmark_group("tools_call");
    // Throughput in calls, so that every result also reads as calls per second.
    group.throughput(Throughput::Elements(1));

    let runtime = support::current_thread_runtime();
    let connection = runtime.block_on(support::connect_in_memory(&server));
    group.bench_function("in_memory", |bencher| {
        bencher.to_async(&runtime).iter(|| connection.call(&add));
    });
    group.bench_function("in_memory_text", |bencher| {
        bencher
            .to_async(&runtime)
            .iter(|| connection.call(&add_text));
    });
    group.throughput(Throughput::Elements(CONCURRENT_CALLS as u64));
    let shared_params = Arc::new(add.clone());
    group.bench_function("concurrent_16", |bencher| {
        bencher
            .to_async(&runtime)
            .iter(|| concurrent_calls(&connection.client, &shared_params));
    });
    group.throughput(Throughput::Elements(1));
    runtime.block_on(connection.close());

    let connection = runtime.block_on(support::connect_stdio(&server));
    group.bench_function("stdio_pipes", |bencher| {
        bencher.to_async(&runtime).iter(|| connection.call(&add));
    });
    runtime.block_on(connection.close());
    drop(runtime);

    // Both peers' tasks on two worker threads, the client's calls on the benchmark's thread:
    // the round trip now includes cross-thread wake-ups.
    let runtime = multi_thread_runtime();
    let connection = runtime.block_on(support::connect_in_memory(&server));
    group.bench_function("in_memory_multi_thread", |bencher| {
        bencher.to_async(&runtime).iter(|| connection.call(&add));
    });
    // With two workers, the server can serve calls in parallel.
    group.throughput(Throughput::Elements(CONCURRENT_CALLS as u64));
    group.bench_function("concurrent_16_multi_thread", |bencher| {
        bencher
            .to_async(&runtime)
            .iter(|| concurrent_calls(&connection.client, &shared_params));
    });
    runtime.block_on(connection.close());
    group.finish();
}

fn multi_thread_runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
}

/// Makes [`CONCURRENT_CALLS`] calls at once, each from its own task, and waits for them all.
async fn concurrent_calls(client: &Peer, params: &Arc<wire::CallToolRequestParams>) {
    let mut calls = JoinSet::new();
    for _ in 0..CONCURRENT_CALLS {
        let client = client.clone();
        let params = Arc::clone(params);
        calls.spawn(async move { client.request::<methods::CallTool>(&params).await });
    }
    while let Some(outcome) = calls.join_next().await {
        let result = outcome
            .expect("a call task does not panic")
            .expect("tools/call answers");
        black_box(result);
    }
}

fn parsing(criterion: &mut Criterion) {
    let bytes = support::tools_call_bytes();
    let Ok(Message::Request(request)) = Message::parse(&bytes) else {
        panic!("the benchmark's tools/call request parses");
    };
    let params = request.params.expect("tools/call has params");
    let result =
        serde_json::value::to_raw_value(&support::add_result()).expect("the result encodes");

    let mut group = criterion.benchmark_group("envelope");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("parse_tools_call", |bencher| {
        bencher.iter(|| Message::parse(black_box(&bytes)));
    });
    group.finish();

    let mut group = criterion.benchmark_group("schema");
    // What the server does: a pass that refuses repeated keys, then the typed decode.
    group.bench_function("decode_call_tool_params", |bencher| {
        bencher.iter(|| {
            mcpwire_jsonrpc::decode_params::<wire::CallToolRequestParams>(Some(black_box(&params)))
        });
    });
    // The typed decode alone, to show what the repeated-key pass costs.
    group.bench_function("decode_call_tool_params_serde_only", |bencher| {
        bencher
            .iter(|| serde_json::from_str::<wire::CallToolRequestParams>(black_box(&params).get()));
    });
    // What the client does with the response.
    group.bench_function("decode_call_tool_result", |bencher| {
        bencher.iter(|| serde_json::from_str::<wire::CallToolResult>(black_box(&result).get()));
    });
    group.finish();
}

fn steps(criterion: &mut Criterion) {
    let tool = support::add_tool().build().expect("the add tool is valid");
    let arguments = support::call_params("add")
        .arguments
        .expect("the call has arguments");
    let input_validator = validator(&tool.definition().input_schema);
    let output_validator = validator(
        tool.definition()
            .output_schema
            .as_ref()
            .expect("add declares its output"),
    );
    let result = support::add_result();
    let arguments_value = Value::Object(arguments.clone());

    let mut group = criterion.benchmark_group("steps");
    // `tools/call` looks its tool up by cloning it, definition and schemas included.
    group.bench_function("tool_clone", |bencher| {
        bencher.iter(|| black_box(&tool).clone());
    });
    // The server collects every violation's message, also for valid arguments.
    group.bench_function("validate_arguments", |bencher| {
        bencher.iter(|| {
            input_validator
                .iter_errors(black_box(&arguments_value))
                .map(|error| error.to_string())
                .collect::<Vec<String>>()
        });
    });
    group.bench_function("validate_arguments_is_valid", |bencher| {
        bencher.iter(|| input_validator.is_valid(black_box(&arguments_value)));
    });
    // A typed tool reads its arguments from the object the server decoded.
    group.bench_function("typed_arguments_from_value", |bencher| {
        bencher.iter_batched(
            || Value::Object(arguments.clone()),
            serde_json::from_value::<support::AddArguments>,
            BatchSize::SmallInput,
        );
    });
    group.bench_function("structured_result", |bencher| {
        bencher.iter(|| {
            Structured(Sum {
                sum: black_box(3.75),
            })
            .into_tool_result()
        });
    });
    // The output check clones the structured content into a `Value` before validating it.
    group.bench_function("validate_output", |bencher| {
        bencher.iter(|| {
            let structured = black_box(&result)
                .structured_content
                .clone()
                .map(Value::Object);
            structured.is_some_and(|structured| output_validator.is_valid(&structured))
        });
    });
    group.bench_function("encode_result", |bencher| {
        bencher.iter(|| serde_json::value::to_raw_value(black_box(&result)));
    });
    group.finish();
}

fn validator(schema: &mcpwire_schema::JsonObject) -> jsonschema::Validator {
    jsonschema::validator_for(&Value::Object(schema.clone())).expect("the schema compiles")
}

criterion_group!(benches, tools_call, parsing, steps);
criterion_main!(benches);
