//! `RedisEventStore` against a real `redis-server`: the behaviour of the in-memory store (the
//! bounds, eviction order, retention, refusals), shared by two instances, and what happens
//! when Redis goes away and comes back.

use std::time::Duration;

use bytes::Bytes;
use mcpwire_http::server::{EventStore, MemoryEventStore};
use mcpwire_store_redis::RedisEventStore;
use mcpwire_test_support::redis::RedisServer;

async fn store(server: &RedisServer) -> RedisEventStore {
    RedisEventStore::connect(&server.url())
        .await
        .expect("connects to the test's redis-server")
}

fn sequences(events: &[(u64, Bytes)]) -> Vec<u64> {
    events.iter().map(|(sequence, _)| *sequence).collect()
}

async fn append(store: &dyn EventStore, session: &str, stream: u64, sequence: u64, text: &str) {
    store
        .append(session, stream, sequence, Bytes::from(text.to_owned()))
        .await
        .expect("appended");
}

/// The scenarios every event store must pass, run on the Redis store and, as the reference,
/// on the in-memory one.
async fn replays_each_stream_alone_and_refuses_gaps(store: &dyn EventStore) {
    for sequence in 1..=3 {
        append(store, "a", 1, sequence, "x").await;
        append(store, "a", 2, sequence, "y").await;
        append(store, "b", 1, sequence, "z").await;
    }
    let replayed = store.replay("a", 1, 1).await.expect("replayed");
    assert_eq!(sequences(&replayed), [2, 3]);
    assert!(replayed.iter().all(|(_, message)| message == "x"));
    assert!(
        store
            .replay("a", 1, 3)
            .await
            .expect("nothing after the last")
            .is_empty()
    );
    assert_eq!(
        sequences(&store.replay("a", 2, 0).await.unwrap()),
        [1, 2, 3]
    );
    assert_eq!(store.replay("b", 1, 2).await.unwrap()[0].1, "z");
    assert!(
        store
            .replay("a", 1, 4)
            .await
            .unwrap_err()
            .is_unknown_event()
    );
    assert!(
        store
            .replay("a", 9, 0)
            .await
            .unwrap_err()
            .is_unknown_event()
    );
    assert!(
        store
            .replay("c", 1, 0)
            .await
            .unwrap_err()
            .is_unknown_event()
    );
    // Out of sequence: ignored, the log keeps no gap.
    append(store, "a", 1, 7, "gap").await;
    assert_eq!(
        sequences(&store.replay("a", 1, 0).await.unwrap()),
        [1, 2, 3]
    );
    store.forget_session("a").await;
    store.forget_session("b").await;
    assert!(
        store
            .replay("a", 2, 0)
            .await
            .unwrap_err()
            .is_unknown_event()
    );
}

#[tokio::test]
async fn the_redis_store_replays_like_the_memory_store() {
    replays_each_stream_alone_and_refuses_gaps(&MemoryEventStore::new()).await;
    let server = RedisServer::start().await;
    replays_each_stream_alone_and_refuses_gaps(&store(&server).await).await;
}

#[tokio::test]
async fn per_stream_bounds_evict_the_oldest_events_and_resuming_before_them_is_refused() {
    let server = RedisServer::start().await;
    let store = store(&server).await.max_events_per_stream(2);
    for sequence in 1..=5 {
        append(&store, "s", 1, sequence, "event").await;
    }
    assert_eq!(sequences(&store.replay("s", 1, 3).await.unwrap()), [4, 5]);
    assert!(store.replay("s", 1, 2).await.unwrap_err().is_evicted());
    assert!(store.replay("s", 1, 0).await.unwrap_err().is_evicted());
    assert_eq!(store.bytes().await.unwrap(), 10);

    let store = store.max_events_per_stream(100).max_bytes_per_stream(10);
    for sequence in 1..=4 {
        append(&store, "s", 2, sequence, "12345").await;
    }
    assert_eq!(sequences(&store.replay("s", 2, 2).await.unwrap()), [3, 4]);
    // The newest event is kept, whatever its size.
    append(&store, "s", 2, 5, &"x".repeat(100)).await;
    assert_eq!(sequences(&store.replay("s", 2, 4).await.unwrap()), [5]);
    assert!(store.replay("s", 2, 3).await.unwrap_err().is_evicted());
}

#[tokio::test]
async fn a_session_over_its_bound_gives_up_its_oldest_events_first_and_no_other_session_does() {
    let server = RedisServer::start().await;
    let store = store(&server).await.max_bytes_per_session(30);
    append(&store, "other", 1, 1, "0123456789").await;
    append(&store, "busy", 1, 1, "0123456789").await;
    append(&store, "busy", 2, 1, "0123456789").await;
    append(&store, "busy", 1, 2, "0123456789").await;
    append(&store, "busy", 2, 2, "0123456789").await;
    // Over 30 bytes: event 1 of stream 1 went first, then nothing else was needed.
    assert!(store.replay("busy", 1, 0).await.unwrap_err().is_evicted());
    assert_eq!(sequences(&store.replay("busy", 1, 1).await.unwrap()), [2]);
    assert_eq!(
        sequences(&store.replay("busy", 2, 0).await.unwrap()),
        [1, 2]
    );
    assert_eq!(sequences(&store.replay("other", 1, 0).await.unwrap()), [1]);
    assert_eq!(store.bytes().await.unwrap(), 40);
}

#[tokio::test]
async fn over_the_global_bound_the_session_holding_the_most_gives_up_its_oldest() {
    let server = RedisServer::start().await;
    let store = store(&server).await.max_bytes(50);
    append(&store, "small", 1, 1, "0123456789").await;
    for sequence in 1..=4 {
        append(&store, "large", 1, sequence, "0123456789").await;
    }
    assert_eq!(store.bytes().await.unwrap(), 50);
    append(&store, "large", 1, 5, "0123456789").await;
    assert_eq!(store.bytes().await.unwrap(), 50);
    assert!(store.replay("large", 1, 0).await.unwrap_err().is_evicted());
    assert_eq!(
        sequences(&store.replay("large", 1, 1).await.unwrap()),
        [2, 3, 4, 5]
    );
    assert_eq!(sequences(&store.replay("small", 1, 0).await.unwrap()), [1]);
    store.forget_session("large").await;
    store.forget_session("small").await;
    assert_eq!(store.bytes().await.unwrap(), 0);
}

#[tokio::test]
async fn a_completed_stream_is_resumable_for_its_retention_then_released() {
    let server = RedisServer::start().await;
    let retention = Duration::from_millis(400);
    let store = store(&server).await.completed_retention(retention);
    for sequence in 1..=3 {
        append(&store, "s", 1, sequence, "done").await;
        append(&store, "s", 2, sequence, "open").await;
    }
    store.complete("s", 1).await;
    assert_eq!(sequences(&store.replay("s", 1, 1).await.unwrap()), [2, 3]);
    // The store reads tokio's clock: move it past the retention instead of waiting for it
    // (paused only for the jump, so that Redis round trips run on real time).
    tokio::time::pause();
    tokio::time::advance(retention + Duration::from_millis(100)).await;
    tokio::time::resume();
    assert!(store.replay("s", 1, 1).await.unwrap_err().is_evicted());
    assert_eq!(
        sequences(&store.replay("s", 2, 0).await.unwrap()),
        [1, 2, 3]
    );
    assert_eq!(
        store.bytes().await.unwrap(),
        12,
        "only the open stream is kept"
    );

    let store = store.completed_retention(Duration::ZERO);
    append(&store, "s", 3, 1, "gone at once").await;
    store.complete("s", 3).await;
    assert!(store.replay("s", 3, 0).await.unwrap_err().is_evicted());
    assert_eq!(store.bytes().await.unwrap(), 12);
}

/// How long the stores of [`delivered_streams_go_sooner_than_lost_ones`] keep a completed
/// stream, and one whose client was handed every event.
const COMPLETED: Duration = Duration::from_secs(2);
const DELIVERED: Duration = Duration::from_millis(200);

/// Moves tokio's clock, which the stores read, by `by` (paused only for the jump, so that
/// Redis round trips run on real time).
async fn advance(by: Duration) {
    tokio::time::pause();
    tokio::time::advance(by).await;
    tokio::time::resume();
}

/// A stream whose client was handed every event goes after the delivered retention, whether
/// the service says so before or after the stream completes; a completed stream whose client
/// lost it stays resumable for the completed retention.
async fn delivered_streams_go_sooner_than_lost_ones(store: &dyn EventStore) {
    append(store, "d", 1, 1, "read").await;
    append(store, "d", 1, 2, "read").await;
    store.complete("d", 1).await;
    store.delivered("d", 1).await;
    append(store, "d", 2, 1, "read first").await;
    store.delivered("d", 2).await;
    store.complete("d", 2).await;
    append(store, "d", 3, 1, "lost").await;
    store.complete("d", 3).await;
    assert_eq!(sequences(&store.replay("d", 1, 0).await.unwrap()), [1, 2]);

    advance(DELIVERED + Duration::from_millis(100)).await;
    assert!(store.replay("d", 1, 0).await.unwrap_err().is_evicted());
    assert!(store.replay("d", 2, 0).await.unwrap_err().is_evicted());
    assert_eq!(sequences(&store.replay("d", 3, 0).await.unwrap()), [1]);

    advance(COMPLETED).await;
    assert!(store.replay("d", 3, 0).await.unwrap_err().is_evicted());
}

#[tokio::test]
async fn delivered_streams_go_sooner_on_redis_as_in_memory() {
    let memory = MemoryEventStore::new()
        .completed_retention(COMPLETED)
        .delivered_retention(DELIVERED);
    delivered_streams_go_sooner_than_lost_ones(&memory).await;
    assert!(memory.is_empty());
    let server = RedisServer::start().await;
    let redis = store(&server)
        .await
        .completed_retention(COMPLETED)
        .delivered_retention(DELIVERED);
    delivered_streams_go_sooner_than_lost_ones(&redis).await;
    assert_eq!(redis.bytes().await.unwrap(), 0);
}

#[tokio::test]
async fn two_instances_share_the_events() {
    let server = RedisServer::start().await;
    let first = store(&server).await;
    let second = store(&server).await;
    for sequence in 1..=3 {
        append(&first, "shared", 4, sequence, &format!("event {sequence}")).await;
    }
    let replayed = second
        .replay("shared", 4, 1)
        .await
        .expect("the other instance replays");
    assert_eq!(sequences(&replayed), [2, 3]);
    assert_eq!(replayed[1].1, "event 3");
    // A prefix keeps deployments apart.
    let elsewhere = store(&server).await.prefix("another-deployment");
    assert!(
        elsewhere
            .replay("shared", 4, 0)
            .await
            .unwrap_err()
            .is_unknown_event()
    );
}

#[tokio::test]
async fn redis_going_away_is_a_store_error_and_its_return_needs_no_restart() {
    let mut server = RedisServer::start().await;
    let store = store(&server).await;
    append(&store, "s", 1, 1, "before").await;
    server.kill().await;
    let error = store
        .append("s", 1, 2, Bytes::from("while away"))
        .await
        .expect_err("no Redis, no store");
    assert!(error.is_store(), "{error}");
    assert!(store.replay("s", 1, 0).await.unwrap_err().is_store());

    server.restart().await;
    // The restarted server is empty (no persistence): a fresh log, through the same store.
    // The first operation may still meet the dropped connection, and starts the reconnection
    // that the next one waits for.
    let mut attempts = 0;
    while store.append("s", 5, 1, Bytes::from("after")).await.is_err() {
        attempts += 1;
        assert!(attempts < 3, "the store works again once Redis is back");
    }
    assert_eq!(store.replay("s", 5, 0).await.unwrap()[0].1, "after");
}

#[tokio::test]
async fn an_unreachable_redis_is_a_clear_error_at_start() {
    let directory = std::env::temp_dir().join(format!("mcpwire-no-redis-{}", std::process::id()));
    let url = format!("redis+unix://{}/nothing.sock", directory.display());
    let error = RedisEventStore::connect(&url)
        .await
        .expect_err("nothing listens there");
    assert!(error.is_unreachable(), "{error}");
    assert!(error.to_string().starts_with("redis store: "), "{error}");
}
