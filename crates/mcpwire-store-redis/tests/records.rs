//! The session records on a real Redis: each save is numbered, a record that is gone stays
//! gone unless the save may make it, and the owner goes with the save that has none.

use std::time::Duration;

use bytes::Bytes;
use mcpwire_http::server::{SessionRecord, SessionStore};
use mcpwire_store_redis::RedisSessionStore;
use mcpwire_test_support::redis::RedisServer;

fn record(owner: Option<&str>, initialized: bool, state: &'static str) -> SessionRecord {
    SessionRecord {
        owner: owner.map(str::to_owned),
        initialized,
        state: Bytes::from_static(state.as_bytes()),
        revision: 0,
    }
}

const TTL: Duration = Duration::from_secs(60);

#[tokio::test]
async fn saves_are_numbered_and_an_ended_session_never_comes_back() {
    let server = RedisServer::start().await;
    let store = RedisSessionStore::connect(&server.url())
        .await
        .expect("connects to the test's redis-server");

    assert_eq!(
        store
            .save("s", &record(None, false, "a"), false, TTL)
            .await
            .unwrap(),
        None,
        "a save that may not make the record makes none"
    );
    assert_eq!(store.load("s").await.unwrap(), None);

    let first = record(Some("alice"), false, "a");
    assert_eq!(store.save("s", &first, true, TTL).await.unwrap(), Some(1));
    let second = record(None, true, "b");
    assert_eq!(store.save("s", &second, false, TTL).await.unwrap(), Some(2));
    assert_eq!(
        store.load("s").await.unwrap(),
        Some(SessionRecord {
            revision: 2,
            ..second
        }),
        "the latest save, its owner gone with it, at its revision"
    );

    store.remove("s").await.unwrap();
    assert_eq!(
        store
            .save("s", &record(None, true, "c"), false, TTL)
            .await
            .unwrap(),
        None,
        "a change saved after the session ended does not bring it back"
    );
    assert_eq!(store.load("s").await.unwrap(), None);
    assert!(!store.touch("s", TTL).await.unwrap());
}
