//! Progress callbacks, timeouts that progress extends, and the hard maximum. Time is paused:
//! the fake server's waits and the client's deadlines run on tokio's virtual clock.

mod support;

use std::time::Duration;

use mcpwire_client::{CallOptions, Progress, RequestId};
use serde_json::{Value, json};
use support::{Behaviour, Event, Fake, builder, connect, shared};
use tokio::time::Instant;

fn progress_arguments(steps: u64, interval_secs: u64) -> Value {
    json!({"steps": steps, "interval_secs": interval_secs})
}

/// The progress token the fake server received with the next `tools/call`, and its id.
async fn sent_call(fake: &mut Fake) -> (RequestId, Value) {
    let Event::Request { id, params, .. } = fake.event_for("tools/call").await else {
        panic!("a request");
    };
    (id, params["_meta"]["progressToken"].clone())
}

/// The id that the next `notifications/cancelled` names.
async fn cancelled_id(fake: &mut Fake) -> Value {
    let Event::Notification { params, .. } = fake.event_for("notifications/cancelled").await else {
        panic!("a notification");
    };
    params["requestId"].clone()
}

#[tokio::test(start_paused = true)]
async fn progress_reaches_the_callback_before_the_result() {
    let (client, mut fake) = connect(Behaviour::default(), builder()).await;
    let updates = shared(Vec::<Progress>::new());
    let options = CallOptions::new().on_progress({
        let updates = updates.clone();
        move |progress| updates.lock().unwrap().push(progress)
    });
    let result = client
        .call_tool("progress", progress_arguments(3, 1))
        .options(options)
        .await
        .expect("call succeeds");
    // Every update was handed over by the time the result arrived.
    let updates = updates.lock().unwrap().clone();
    assert_eq!(result.content.len(), 1);
    let steps: Vec<_> = updates
        .iter()
        .map(|update| (update.progress, update.total, update.message.clone()))
        .collect();
    assert_eq!(
        steps,
        [
            (1.0, Some(3.0), Some("step 1".to_owned())),
            (2.0, Some(3.0), Some("step 2".to_owned())),
            (3.0, Some(3.0), Some("step 3".to_owned())),
        ]
    );
    let (_, token) = sent_call(&mut fake).await;
    assert!(!token.is_null(), "the request carries a progress token");
    for update in &updates {
        assert_eq!(json!(update.token), token);
    }
}

#[tokio::test(start_paused = true)]
async fn progress_tokens_are_unique_per_request_and_only_sent_when_asked() {
    let (client, mut fake) = connect(Behaviour::default(), builder()).await;
    let mut tokens = Vec::new();
    for _ in 0..3 {
        let options = CallOptions::new().on_progress(|_| {});
        client
            .call_tool("progress", progress_arguments(1, 0))
            .options(options)
            .await
            .expect("call succeeds");
        tokens.push(sent_call(&mut fake).await.1);
    }
    assert_ne!(tokens[0], tokens[1]);
    assert_ne!(tokens[1], tokens[2]);
    assert_ne!(tokens[0], tokens[2]);

    client
        .call_tool("progress", progress_arguments(1, 0))
        .await
        .expect("call succeeds");
    let (_, token) = sent_call(&mut fake).await;
    assert!(token.is_null(), "no token without a callback: {token}");
}

#[tokio::test(start_paused = true)]
async fn without_extension_a_slow_call_times_out_and_is_cancelled() {
    let (client, mut fake) = connect(Behaviour::default(), builder()).await;
    let started = Instant::now();
    let options = CallOptions::new()
        .timeout(Duration::from_secs(10))
        .on_progress(|_| {});
    let error = client
        .call_tool("progress", progress_arguments(3, 8))
        .options(options)
        .await
        .expect_err("32 s of work with a 10 s timeout");
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(started.elapsed(), Duration::from_secs(10));
    let (id, _) = sent_call(&mut fake).await;
    assert_eq!(cancelled_id(&mut fake).await, json!(id));
}

#[tokio::test(start_paused = true)]
async fn each_progress_update_extends_the_timeout() {
    let (client, mut fake) = connect(Behaviour::default(), builder()).await;
    let started = Instant::now();
    let updates = shared(0);
    let options = CallOptions::new()
        .timeout(Duration::from_secs(10))
        .progress_extends_timeout(Duration::from_secs(60))
        .on_progress({
            let updates = updates.clone();
            move |_| *updates.lock().unwrap() += 1
        });
    // Updates at 8, 16 and 24 s, the result at 32 s: never 10 s without news.
    client
        .call_tool("progress", progress_arguments(3, 8))
        .options(options)
        .await
        .expect("progress kept the call alive");
    assert_eq!(started.elapsed(), Duration::from_secs(32));
    assert_eq!(*updates.lock().unwrap(), 3);
    let (_, token) = sent_call(&mut fake).await;
    assert!(!token.is_null());
}

#[tokio::test(start_paused = true)]
async fn the_client_can_let_progress_extend_every_timeout() {
    let (client, mut fake) = connect(
        Behaviour::default(),
        builder()
            .request_timeout(Some(Duration::from_secs(10)))
            .progress_extends_timeout(Duration::from_secs(60)),
    )
    .await;
    // No callback: the token is sent anyway, so that updates can arrive.
    client
        .call_tool("progress", progress_arguments(3, 8))
        .await
        .expect("progress kept the call alive");
    let (_, token) = sent_call(&mut fake).await;
    assert!(!token.is_null());

    // A call can opt out.
    let error = client
        .call_tool("progress", progress_arguments(3, 8))
        .options(CallOptions::new().progress_keeps_timeout())
        .await
        .expect_err("the timeout stays fixed");
    assert!(error.is_timeout(), "{error:?}");
}

#[tokio::test(start_paused = true)]
async fn the_hard_maximum_still_applies() {
    let (client, mut fake) = connect(Behaviour::default(), builder()).await;
    let started = Instant::now();
    let updates = shared(0);
    let options = CallOptions::new()
        .timeout(Duration::from_secs(10))
        .progress_extends_timeout(Duration::from_secs(35))
        .on_progress({
            let updates = updates.clone();
            move |_| *updates.lock().unwrap() += 1
        });
    // Updates every 8 s for 800 s: progress never stops, but the maximum does.
    let error = client
        .call_tool("progress", progress_arguments(100, 8))
        .options(options)
        .await
        .expect_err("the hard maximum ends the call");
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(started.elapsed(), Duration::from_secs(35));
    assert_eq!(*updates.lock().unwrap(), 4);
    let (id, _) = sent_call(&mut fake).await;
    assert_eq!(cancelled_id(&mut fake).await, json!(id));
}

#[tokio::test(start_paused = true)]
async fn dropping_a_call_through_an_outer_timeout_cancels_it() {
    let (client, mut fake) = connect(Behaviour::default(), builder()).await;
    let outcome = tokio::time::timeout(
        Duration::from_secs(1),
        client.call_tool("block", Value::Null),
    )
    .await;
    assert!(outcome.is_err(), "the outer timeout fired");
    let (id, _) = sent_call(&mut fake).await;
    assert_eq!(cancelled_id(&mut fake).await, json!(id));
}

#[tokio::test(start_paused = true)]
async fn progress_after_a_call_ended_is_dropped_not_handed_to_the_application() {
    let delivered = shared(Vec::<Progress>::new());
    let builder = builder().on_notification({
        let delivered = delivered.clone();
        move |notification| {
            if let mcpwire_client::ServerNotification::Progress(progress) = notification {
                delivered.lock().unwrap().push(progress);
            }
        }
    });
    let (client, mut fake) = connect(Behaviour::default(), builder).await;
    let options = CallOptions::new()
        .timeout(Duration::from_secs(1))
        .on_progress(|_| {});
    client
        .call_tool("block", Value::Null)
        .options(options)
        .await
        .expect_err("the call times out and is cancelled");
    let (id, token) = sent_call(&mut fake).await;
    assert_eq!(cancelled_id(&mut fake).await, json!(id));

    // The server goes on reporting under the ended call's token, then under one nobody gave.
    for token in [token, json!("nobody-asked")] {
        let params = json!({"progressToken": token, "progress": 0.5});
        let params = serde_json::value::to_raw_value(&params).expect("encodes");
        fake.peer
            .notify_raw("notifications/progress", Some(params), Default::default())
            .await
            .expect("sent");
    }
    // A round trip after them: both were read by the time it returns.
    client.ping().await.expect("ping");
    let delivered = delivered.lock().unwrap().clone();
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(delivered[0].token, RequestId::from("nobody-asked"));
}
