//! The requestor side of tasks: how often to poll a task, and, for the extension of
//! 2026-07-28, what to do after each look at a task until it ends.
//!
//! Nothing here sends anything: a role reads a task's wire form into a [`TaskFollower`], is told
//! the next [`FollowStep`], and does it with its own connection. So the rules of following a
//! task (the server's interval within bounds, the time to live as a backstop, each input
//! request answered once) exist once, whichever role follows.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use mcpwire_jsonrpc::ErrorObject;
use mcpwire_schema::JsonObject;
use mcpwire_schema::ext_tasks::TaskStatus;
use serde::Deserialize;
use serde::de::Error as _;
use serde_json::value::RawValue;
use tokio::time::Instant;

use crate::task::{MAX_INPUT_REQUESTS, is_terminal};

/// How a requestor follows a task: the bounds it keeps the server's poll interval within,
/// and the longest it follows one task.
///
/// A follower polls at the interval the server announces (`pollIntervalMs`, or `pollInterval`
/// in 2025-11-25), kept within [`min_poll_interval`](FollowLimits::min_poll_interval) and
/// [`max_poll_interval`](FollowLimits::max_poll_interval), and gives up on a task that has not
/// ended after its time to live or [`max_follow`](FollowLimits::max_follow), whichever comes
/// first. The number of polls is bounded by the two: at most `max_follow / min_poll_interval`.
#[derive(Clone, Debug)]
pub struct FollowLimits {
    /// The interval used when the server announces none. Default 1 s.
    pub default_poll_interval: Duration,
    /// The shortest interval between two polls, whatever the server announces. Default 50 ms.
    pub min_poll_interval: Duration,
    /// The longest interval between two polls, whatever the server announces. Default 60 s.
    pub max_poll_interval: Duration,
    /// The longest a requestor follows one task, from the moment it learns of it; also the
    /// bound for a task whose time to live is unlimited (`ttlMs: null`). Default one hour.
    pub max_follow: Duration,
}

impl Default for FollowLimits {
    fn default() -> Self {
        FollowLimits {
            default_poll_interval: Duration::from_secs(1),
            min_poll_interval: Duration::from_millis(50),
            max_poll_interval: Duration::from_secs(60),
            max_follow: Duration::from_secs(60 * 60),
        }
    }
}

impl FollowLimits {
    /// The interval to wait before the next poll, for the interval in milliseconds the server
    /// announced (`None`, or a negative number: the default), within the bounds.
    pub fn poll_interval(&self, announced_millis: Option<i64>) -> Duration {
        let minimum = self.min_poll_interval;
        // A maximum below the minimum would make `clamp` panic: the minimum wins.
        let maximum = self.max_poll_interval.max(minimum);
        announced_millis
            .and_then(|millis| u64::try_from(millis).ok())
            .map_or(self.default_poll_interval, Duration::from_millis)
            .clamp(minimum, maximum)
    }
}

/// What a requestor does next for a task it follows.
#[derive(Debug)]
pub enum FollowStep {
    /// Poll (`tasks/get`) again after this long, unless the task has
    /// [expired](TaskFollower::expired) by then: the last wait ends at the deadline, and the
    /// server may have forgotten the task.
    Wait(Duration),
    /// Answer these input requests, by key (each a `{"method", "params"}` object as the
    /// server wrote it), send the answers with `tasks/update`, report them with
    /// [`TaskFollower::answered`], then poll again. Only requests not answered before are
    /// here.
    Answer(BTreeMap<String, Box<RawValue>>),
    /// The task completed with this result of its request (a tool's error included).
    Completed(JsonObject),
    /// The task failed with the JSON-RPC error its request met.
    Failed(ErrorObject),
    /// The task was cancelled.
    Cancelled,
    /// The task has not ended within its time to live or
    /// [`FollowLimits::max_follow`]: the requestor should stop following it.
    Abandoned,
}

/// The members of a task that a requestor reads: those of `CreateTaskResult` and of the
/// `DetailedTask` of `tasks/get`, whose `resultType` is not read (the spec's own examples
/// disagree on it).
#[derive(Deserialize)]
struct Observed {
    #[serde(rename = "taskId")]
    task_id: String,
    status: TaskStatus,
    #[serde(rename = "statusMessage", default)]
    status_message: Option<String>,
    #[serde(rename = "ttlMs", default)]
    ttl_ms: Option<i64>,
    #[serde(rename = "pollIntervalMs", default)]
    poll_interval_ms: Option<i64>,
    #[serde(rename = "inputRequests", default)]
    input_requests: Option<BTreeMap<String, Box<RawValue>>>,
    #[serde(default)]
    result: Option<JsonObject>,
    #[serde(default)]
    error: Option<ErrorObject>,
}

/// One task of the extension as its requestor follows it: its last known status and interval,
/// the time it may be followed until, and the input requests answered so far.
///
/// Made from the `CreateTaskResult` that answered the request ([`TaskFollower::created`]) or
/// from a task id kept from before ([`TaskFollower::resume`]); each `tasks/get` result goes to
/// [`TaskFollower::observe`], which says what to do next.
#[derive(Debug)]
pub struct TaskFollower {
    task_id: String,
    status: TaskStatus,
    status_message: Option<String>,
    limits: FollowLimits,
    /// When the requestor learnt of the task: the time to live counts from here, on this
    /// machine's clock rather than the server's `createdAt`.
    learnt_at: Instant,
    ttl: Option<Duration>,
    poll_interval: Duration,
    /// The keys of the input requests answered so far, at most [`MAX_INPUT_REQUESTS`].
    answered: HashSet<String>,
}

impl TaskFollower {
    /// Starts following the task a request was answered with: `created` is the
    /// `CreateTaskResult`, flat, with `resultType: "task"`.
    ///
    /// # Errors
    ///
    /// When `created` does not have the members of a task.
    pub fn created(created: &RawValue, limits: FollowLimits) -> Result<Self, serde_json::Error> {
        let observed: Observed = serde_json::from_str(created.get())?;
        let mut follower = TaskFollower::resume(observed.task_id.clone(), limits);
        follower.update(&observed);
        Ok(follower)
    }

    /// Follows a task known only by its id, such as one kept in durable storage: its status
    /// is taken as `working` until the first poll, and its time to live counts from now.
    pub fn resume(task_id: String, limits: FollowLimits) -> Self {
        let poll_interval = limits.poll_interval(None);
        TaskFollower {
            task_id,
            status: TaskStatus::Working,
            status_message: None,
            limits,
            learnt_at: Instant::now(),
            ttl: None,
            poll_interval,
            answered: HashSet::new(),
        }
    }

    /// The task's id.
    pub fn id(&self) -> &str {
        &self.task_id
    }

    /// The status the task had when last seen.
    pub fn status(&self) -> &TaskStatus {
        &self.status
    }

    /// The message that came with the last status seen, if any.
    pub fn status_message(&self) -> Option<&str> {
        self.status_message.as_deref()
    }

    /// The interval to wait before the next poll: the server's last announced one, within the
    /// bounds.
    pub fn poll_interval(&self) -> Duration {
        self.poll_interval
    }

    /// The instant after which the task is no longer followed: its time to live (as last
    /// announced) or [`FollowLimits::max_follow`], from when it was learnt of.
    pub fn deadline(&self) -> Instant {
        let follow = self.ttl.map_or(self.limits.max_follow, |ttl| {
            ttl.min(self.limits.max_follow)
        });
        self.learnt_at + follow
    }

    /// Whether the deadline has passed: the task is no longer to be polled.
    pub fn expired(&self) -> bool {
        Instant::now() >= self.deadline()
    }

    fn update(&mut self, observed: &Observed) {
        self.status = observed.status.clone();
        self.status_message.clone_from(&observed.status_message);
        self.ttl = observed
            .ttl_ms
            .and_then(|millis| u64::try_from(millis).ok())
            .map(Duration::from_millis);
        self.poll_interval = self.limits.poll_interval(observed.poll_interval_ms);
    }

    /// The step after the task was created or resumed, or after its input requests were
    /// answered: wait before the next poll, unless the task is to be abandoned already.
    pub fn wait_step(&self) -> FollowStep {
        self.wait(Instant::now())
    }

    /// Reads one `tasks/get` result of the task and says what to do next.
    ///
    /// # Errors
    ///
    /// When `task` is not a task, is another task, is completed without its `result` or
    /// failed without its `error`, or asks for input beyond [`MAX_INPUT_REQUESTS`] in the
    /// task's life.
    pub fn observe(&mut self, task: &RawValue) -> Result<FollowStep, serde_json::Error> {
        let observed: Observed = serde_json::from_str(task.get())?;
        if observed.task_id != self.task_id {
            return Err(serde_json::Error::custom(format!(
                "asked for task `{}`, got task `{}`",
                self.task_id, observed.task_id
            )));
        }
        self.update(&observed);
        let Observed {
            status,
            input_requests,
            result,
            error,
            ..
        } = observed;
        match status {
            TaskStatus::Completed => result.map(FollowStep::Completed).ok_or_else(|| {
                serde_json::Error::custom("a completed task came without its `result`")
            }),
            TaskStatus::Failed => error
                .map(FollowStep::Failed)
                .ok_or_else(|| serde_json::Error::custom("a failed task came without its `error`")),
            TaskStatus::Cancelled => Ok(FollowStep::Cancelled),
            TaskStatus::InputRequired => {
                let fresh: BTreeMap<_, _> = input_requests
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|(key, _)| !self.answered.contains(key))
                    .collect();
                if self.answered.len() + fresh.len() > MAX_INPUT_REQUESTS {
                    return Err(serde_json::Error::custom(format!(
                        "a task asked for input more than {MAX_INPUT_REQUESTS} times"
                    )));
                }
                if fresh.is_empty() {
                    // Answered already and not yet taken into account: wait for the server.
                    return Ok(self.wait(Instant::now()));
                }
                Ok(FollowStep::Answer(fresh))
            }
            // `working`, or a status of a later revision: the task goes on.
            _ => Ok(self.wait(Instant::now())),
        }
    }

    /// Records that the input requests under `keys` were answered with `tasks/update`, so
    /// that later polls showing them again do not ask twice.
    pub fn answered(&mut self, keys: impl IntoIterator<Item = String>) {
        for key in keys {
            if self.answered.len() >= MAX_INPUT_REQUESTS {
                // `observe` refuses a task that asks for more, before anything is answered.
                break;
            }
            self.answered.insert(key);
        }
    }

    /// Whether the last status seen is one a task never leaves.
    pub fn is_terminal(&self) -> bool {
        is_terminal(&self.status)
    }

    fn wait(&self, now: Instant) -> FollowStep {
        let deadline = self.deadline();
        if now >= deadline {
            return FollowStep::Abandoned;
        }
        // The last wait ends at the deadline, so that one more poll may still see the end.
        FollowStep::Wait(self.poll_interval.min(deadline - now))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn raw(value: Value) -> Box<RawValue> {
        serde_json::value::to_raw_value(&value).expect("JSON")
    }

    fn task(status: &str, extra: Value) -> Box<RawValue> {
        let mut task = json!({
            "taskId": "t1",
            "status": status,
            "createdAt": "2026-01-01T00:00:00Z",
            "lastUpdatedAt": "2026-01-01T00:00:00Z",
            "ttlMs": 60_000,
            "pollIntervalMs": 200,
        });
        if let (Value::Object(task), Value::Object(extra)) = (&mut task, extra) {
            task.extend(extra);
        }
        raw(task)
    }

    #[test]
    fn the_interval_is_the_servers_within_bounds() {
        let limits = FollowLimits::default();
        assert_eq!(limits.poll_interval(None), Duration::from_secs(1));
        assert_eq!(limits.poll_interval(Some(-5)), Duration::from_secs(1));
        assert_eq!(limits.poll_interval(Some(1)), Duration::from_millis(50));
        assert_eq!(limits.poll_interval(Some(700)), Duration::from_millis(700));
        assert_eq!(
            limits.poll_interval(Some(i64::MAX)),
            Duration::from_secs(60)
        );
        let inverted = FollowLimits {
            min_poll_interval: Duration::from_secs(2),
            max_poll_interval: Duration::from_secs(1),
            ..FollowLimits::default()
        };
        assert_eq!(inverted.poll_interval(Some(10)), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_is_followed_to_its_end() {
        let created = raw(json!({
            "resultType": "task", "taskId": "t1", "status": "working",
            "createdAt": "x", "lastUpdatedAt": "x", "ttlMs": 60_000, "pollIntervalMs": 5000,
        }));
        let mut follower =
            TaskFollower::created(&created, FollowLimits::default()).expect("a task");
        assert_eq!(follower.id(), "t1");
        assert!(
            matches!(follower.wait_step(), FollowStep::Wait(wait) if wait == Duration::from_secs(5))
        );

        let step = follower
            .observe(&task("working", json!({"statusMessage": "half way"})))
            .expect("a task");
        assert!(matches!(step, FollowStep::Wait(wait) if wait == Duration::from_millis(200)));
        assert_eq!(follower.status_message(), Some("half way"));

        let done = task(
            "completed",
            json!({"result": {"content": [], "isError": true}}),
        );
        let FollowStep::Completed(result) = follower.observe(&done).expect("a task") else {
            panic!("completed");
        };
        assert_eq!(result["isError"], true);
        assert!(follower.is_terminal());

        let failed = task(
            "failed",
            json!({"error": {"code": -32603, "message": "boom"}}),
        );
        let FollowStep::Failed(error) = follower.observe(&failed).expect("a task") else {
            panic!("failed");
        };
        assert_eq!(error.message, "boom");
        assert!(matches!(
            follower.observe(&task("cancelled", json!({}))),
            Ok(FollowStep::Cancelled)
        ));
        // A later revision's status is followed as one that goes on.
        assert!(matches!(
            follower.observe(&task("paused", json!({}))),
            Ok(FollowStep::Wait(_))
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn input_requests_are_answered_once() {
        let mut follower = TaskFollower::resume("t1".to_owned(), FollowLimits::default());
        let asking = |keys: &[&str]| {
            let requests: serde_json::Map<String, Value> = keys
                .iter()
                .map(|key| ((*key).to_owned(), json!({"method": "elicitation/create"})))
                .collect();
            task("input_required", json!({"inputRequests": requests}))
        };
        let FollowStep::Answer(first) = follower.observe(&asking(&["a", "b"])).expect("a task")
        else {
            panic!("input is asked for");
        };
        assert_eq!(first.keys().collect::<Vec<_>>(), ["a", "b"]);
        follower.answered(first.into_keys());
        // Shown again before the server took the answers: nothing to answer.
        assert!(matches!(
            follower.observe(&asking(&["a", "b"])),
            Ok(FollowStep::Wait(_))
        ));
        let FollowStep::Answer(next) = follower.observe(&asking(&["b", "c"])).expect("a task")
        else {
            panic!("a new request");
        };
        assert_eq!(next.keys().collect::<Vec<_>>(), ["c"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_that_outlives_its_time_to_live_is_abandoned() {
        let limits = FollowLimits {
            max_follow: Duration::from_secs(30),
            ..FollowLimits::default()
        };
        let mut follower = TaskFollower::resume("t1".to_owned(), limits);
        // Unlimited time to live: `max_follow` bounds it.
        let unlimited = task("working", json!({"ttlMs": null}));
        assert!(matches!(
            follower.observe(&unlimited),
            Ok(FollowStep::Wait(_))
        ));
        assert_eq!(
            follower.deadline(),
            follower.learnt_at + Duration::from_secs(30)
        );
        // A shorter time to live bounds it more.
        let short = task("working", json!({"ttlMs": 1000}));
        let step = follower.observe(&short).expect("a task");
        assert!(matches!(step, FollowStep::Wait(wait) if wait == Duration::from_millis(200)));
        tokio::time::advance(Duration::from_millis(900)).await;
        let step = follower.observe(&short).expect("a task");
        assert!(
            matches!(step, FollowStep::Wait(wait) if wait == Duration::from_millis(100)),
            "the last wait ends at the deadline: {step:?}"
        );
        assert!(!follower.expired());
        tokio::time::advance(Duration::from_millis(100)).await;
        assert!(follower.expired(), "no poll at the deadline");
        assert!(matches!(
            follower.observe(&short),
            Ok(FollowStep::Abandoned)
        ));
        assert!(matches!(follower.wait_step(), FollowStep::Abandoned));
        // Its end is still taken when it comes.
        assert!(matches!(
            follower.observe(&task("cancelled", json!({}))),
            Ok(FollowStep::Cancelled)
        ));
    }

    #[test]
    fn malformed_tasks_are_refused() {
        let mut follower = TaskFollower::resume("t1".to_owned(), FollowLimits::default());
        for bad in [
            raw(json!({"status": "working"})),
            raw(json!({"taskId": "other", "status": "working"})),
            task("completed", json!({})),
            task("failed", json!({})),
            raw(json!([1, 2])),
        ] {
            assert!(follower.observe(&bad).is_err(), "{bad}");
        }
        let too_many: serde_json::Map<String, Value> = (0..=MAX_INPUT_REQUESTS)
            .map(|index| (format!("k{index}"), json!({"method": "roots/list"})))
            .collect();
        let error = follower
            .observe(&task("input_required", json!({"inputRequests": too_many})))
            .expect_err("too many");
        assert!(error.to_string().contains("more than"), "{error}");
    }
}
