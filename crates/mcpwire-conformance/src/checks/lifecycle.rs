//! Version negotiation, `initialize`, and capabilities that match behaviour.

use serde_json::{Value, json};

use crate::check::{Area, Check, Checked, EraNeed, Outcome, must, should};
use crate::checks::kind;
use crate::context::{Ctx, Era};
use crate::run_fn;
use crate::session::{LegacySession, REVISIONS};

pub(crate) fn checks() -> Vec<Check> {
    vec![
        Check::new(
            "lifecycle/first-contact",
            Area::Lifecycle,
            EraNeed::Any,
            "the server answers `initialize` or `server/discover`",
            must(
                "2025-11-25",
                "basic/lifecycle §Initialization",
                Some(16),
                "The server answers `initialize` with `protocolVersion`, `capabilities` and `serverInfo`.",
            ),
            run_fn!(first_contact),
        ),
        Check::new(
            "lifecycle/initialize-result",
            Area::Lifecycle,
            EraNeed::Legacy,
            "the `initialize` result has `protocolVersion`, `capabilities` and `serverInfo`",
            must(
                "2025-11-25",
                "basic/lifecycle §Initialization",
                Some(16),
                "The server MUST respond with its own capabilities and information.",
            ),
            run_fn!(initialize_result),
        ),
        Check::new(
            "lifecycle/server-info",
            Area::Lifecycle,
            EraNeed::Legacy,
            "`serverInfo` names the server with a string `name` and `version`",
            must(
                "2025-11-25",
                "schema Implementation",
                None,
                "`Implementation` requires `name` and `version`, both strings.",
            ),
            run_fn!(server_info),
        ),
        Check::new(
            "lifecycle/echoes-supported-version",
            Area::Lifecycle,
            EraNeed::Legacy,
            "asked for the version it chose, the server answers with that version",
            must(
                "2025-11-25",
                "basic/lifecycle §Version Negotiation",
                Some(19),
                "If the server supports the requested protocol version, it MUST respond with the same version.",
            ),
            run_fn!(echoes_supported_version),
        ),
        Check::new(
            "lifecycle/unsupported-version",
            Area::Lifecycle,
            EraNeed::Legacy,
            "asked for an unknown version, the server answers with one it supports, not an error",
            must(
                "2025-11-25",
                "basic/lifecycle §Version Negotiation",
                Some(20),
                "Otherwise, the server MUST respond with another protocol version it supports.",
            ),
            run_fn!(unsupported_version),
        ),
        Check::new(
            "lifecycle/older-versions",
            Area::Lifecycle,
            EraNeed::Legacy,
            "each older revision asked for is echoed or answered with another known revision",
            must(
                "2025-11-25",
                "basic/lifecycle §Version Negotiation",
                Some(19),
                "If the server supports the requested protocol version, it MUST respond with the same version. Otherwise, the server MUST respond with another protocol version it supports.",
            ),
            run_fn!(older_versions),
        ),
        Check::new(
            "lifecycle/capabilities-are-objects",
            Area::Lifecycle,
            EraNeed::Each,
            "every declared capability is an object",
            must(
                "2025-11-25",
                "schema ServerCapabilities",
                None,
                "Each capability of `ServerCapabilities` is an object (or absent).",
            ),
            run_fn!(capabilities_are_objects),
        ),
        Check::new(
            "lifecycle/instructions",
            Area::Lifecycle,
            EraNeed::Legacy,
            "`instructions`, when present, is a string",
            must(
                "2025-11-25",
                "schema InitializeResult",
                None,
                "`instructions?: string`.",
            ),
            run_fn!(instructions),
        ),
        Check::new(
            "lifecycle/tools-capability",
            Area::Lifecycle,
            EraNeed::Each,
            "a server that lists tools declares `tools`, and one that declares it lists them",
            must(
                "2025-11-25",
                "server/tools §Capabilities",
                Some(25),
                "Servers that support tools MUST declare the `tools` capability.",
            ),
            run_fn!(tools_capability),
        ),
        Check::new(
            "lifecycle/resources-capability",
            Area::Lifecycle,
            EraNeed::Each,
            "a server that lists resources declares `resources`, and one that declares it lists them",
            must(
                "2025-11-25",
                "server/resources §Capabilities",
                Some(26),
                "Servers that support resources MUST declare the `resources` capability.",
            ),
            run_fn!(resources_capability),
        ),
        Check::new(
            "lifecycle/prompts-capability",
            Area::Lifecycle,
            EraNeed::Each,
            "a server that lists prompts declares `prompts`, and one that declares it lists them",
            must(
                "2025-11-25",
                "server/prompts §Capabilities",
                Some(27),
                "Servers that support prompts MUST declare the `prompts` capability.",
            ),
            run_fn!(prompts_capability),
        ),
        Check::new(
            "lifecycle/undeclared-feature",
            Area::Lifecycle,
            EraNeed::Each,
            "a list method of an undeclared feature is answered with method not found",
            should(
                "2025-11-25",
                "basic/lifecycle §Capability Negotiation",
                Some(22),
                "Both parties MUST only use capabilities that were successfully negotiated; a method of a feature the server did not declare is not found (-32601).",
            ),
            run_fn!(undeclared_feature),
        ),
    ]
}

async fn first_contact(ctx: &mut Ctx) -> Checked {
    let profile = ctx.profile();
    let eras = profile.eras();
    if eras.is_empty() {
        return Ok(Outcome::Violated(format!(
            "neither era answered: `initialize`: {}; `server/discover`: {}",
            profile.legacy_error.as_deref().unwrap_or("not tried"),
            profile.modern_error.as_deref().unwrap_or("not tried")
        )));
    }
    Ok(Outcome::Pass(format!("the server speaks {eras:?}")))
}

async fn initialize_result(ctx: &mut Ctx) -> Checked {
    let result = ctx.profile().initialize.clone().unwrap_or_default();
    let mut problems = Vec::new();
    match result.get("protocolVersion") {
        Some(Value::String(_)) => {}
        other => problems.push(format!(
            "`protocolVersion` is {}",
            other.map_or("missing", kind)
        )),
    }
    match result.get("capabilities") {
        Some(Value::Object(_)) => {}
        other => problems.push(format!(
            "`capabilities` is {}",
            other.map_or("missing", kind)
        )),
    }
    match result.get("serverInfo") {
        Some(Value::Object(_)) => {}
        other => problems.push(format!("`serverInfo` is {}", other.map_or("missing", kind))),
    }
    Ok(verdict(problems, &result))
}

async fn server_info(ctx: &mut Ctx) -> Checked {
    let info = ctx
        .profile()
        .initialize
        .as_ref()
        .and_then(|result| result.get("serverInfo"))
        .cloned()
        .unwrap_or(Value::Null);
    let mut problems = Vec::new();
    for field in ["name", "version"] {
        match info.get(field) {
            Some(Value::String(text)) if !text.is_empty() => {}
            Some(Value::String(_)) => problems.push(format!("`{field}` is empty")),
            other => problems.push(format!("`{field}` is {}", other.map_or("missing", kind))),
        }
    }
    for field in ["title", "websiteUrl", "description"] {
        if let Some(value) = info.get(field)
            && !value.is_string()
        {
            problems.push(format!("`{field}` is {}", kind(value)));
        }
    }
    Ok(verdict(problems, &info))
}

async fn echoes_supported_version(ctx: &mut Ctx) -> Checked {
    let chosen = ctx.legacy_version().to_owned();
    let session = ctx.fresh_legacy().await?;
    let answered = session.version.clone();
    session.close().await;
    if answered == chosen {
        Ok(Outcome::Pass(format!(
            "asked for {chosen}, answered {answered}"
        )))
    } else {
        Ok(Outcome::Violated(format!(
            "the server chose {chosen} before; asked for it, it answered {answered}"
        )))
    }
}

async fn unsupported_version(ctx: &mut Ctx) -> Checked {
    let session =
        LegacySession::open(ctx.target(), "1900-01-01", json!({}), ctx.step_limit()).await;
    match session {
        Ok(session) => {
            let version = session.version.clone();
            session.close().await;
            if REVISIONS.contains(&version.as_str()) {
                Ok(Outcome::Pass(format!("answered {version}")))
            } else {
                Ok(Outcome::Violated(format!(
                    "answered `{version}`, which is no revision of the spec"
                )))
            }
        }
        Err(error) => Ok(Outcome::Violated(format!(
            "asked for 1900-01-01, the server did not answer with a version of its own: {error}"
        ))),
    }
}

async fn older_versions(ctx: &mut Ctx) -> Checked {
    let chosen = ctx.legacy_version().to_owned();
    let mut seen = Vec::new();
    for asked in REVISIONS
        .iter()
        .filter(|revision| **revision < chosen.as_str())
    {
        let session = LegacySession::open(ctx.target(), asked, json!({}), ctx.step_limit()).await;
        match session {
            Ok(session) => {
                let answered = session.version.clone();
                session.close().await;
                if !REVISIONS.contains(&answered.as_str()) || answered.as_str() >= "2026" {
                    return Ok(Outcome::Violated(format!(
                        "asked for {asked}, answered `{answered}`, which is no legacy revision"
                    )));
                }
                seen.push(format!("{asked}→{answered}"));
            }
            Err(error) => {
                return Ok(Outcome::Violated(format!(
                    "asked for {asked}, the server did not answer with a version: {error}"
                )));
            }
        }
    }
    if seen.is_empty() {
        return Ok(Outcome::Skip(format!("{chosen} is the oldest revision")));
    }
    Ok(Outcome::Pass(seen.join(", ")))
}

async fn capabilities_are_objects(ctx: &mut Ctx) -> Checked {
    let capabilities = ctx.capabilities();
    let Some(map) = capabilities.as_object() else {
        return Ok(Outcome::Violated(format!(
            "`capabilities` is {}",
            kind(&capabilities)
        )));
    };
    let problems: Vec<String> = map
        .iter()
        .filter(|(_, value)| !value.is_object())
        .map(|(name, value)| format!("`{name}` is {}", kind(value)))
        .collect();
    Ok(verdict(problems, &capabilities))
}

async fn instructions(ctx: &mut Ctx) -> Checked {
    match ctx
        .profile()
        .initialize
        .as_ref()
        .and_then(|result| result.get("instructions"))
    {
        None => Ok(Outcome::Skip("no instructions".to_owned())),
        Some(Value::String(_)) => Ok(Outcome::Pass("a string".to_owned())),
        Some(other) => Ok(Outcome::Violated(format!(
            "`instructions` is {}",
            kind(other)
        ))),
    }
}

/// Declared `capability` and answering `method` must go together.
async fn capability_matches(ctx: &mut Ctx, capability: &str, method: &str, key: &str) -> Checked {
    let declared = ctx.declares(capability);
    let exchange = ctx.request(method, None).await?;
    let listed = exchange
        .result()
        .and_then(|result| result.get(key))
        .and_then(Value::as_array)
        .map(Vec::len);
    match (declared, listed) {
        (true, Some(count)) => Ok(Outcome::Pass(format!(
            "declares `{capability}`; `{method}` lists {count}"
        ))),
        (true, None) => Ok(Outcome::Violated(format!(
            "declares `{capability}` but `{method}` gave {}",
            exchange.seen()
        ))),
        (false, Some(0)) => Ok(Outcome::Pass(format!(
            "does not declare `{capability}`; `{method}` lists nothing"
        ))),
        (false, Some(count)) => Ok(Outcome::Violated(format!(
            "does not declare `{capability}` but `{method}` lists {count}"
        ))),
        (false, None) => Ok(Outcome::Pass(format!(
            "does not declare `{capability}`; `{method}` is refused"
        ))),
    }
}

async fn tools_capability(ctx: &mut Ctx) -> Checked {
    capability_matches(ctx, "tools", "tools/list", "tools").await
}

async fn resources_capability(ctx: &mut Ctx) -> Checked {
    capability_matches(ctx, "resources", "resources/list", "resources").await
}

async fn prompts_capability(ctx: &mut Ctx) -> Checked {
    capability_matches(ctx, "prompts", "prompts/list", "prompts").await
}

async fn undeclared_feature(ctx: &mut Ctx) -> Checked {
    let candidates = [
        ("tools", "tools/list"),
        ("resources", "resources/list"),
        ("prompts", "prompts/list"),
    ];
    let Some((capability, method)) = candidates
        .into_iter()
        .find(|(capability, _)| !ctx.declares(capability))
    else {
        return Ok(Outcome::Skip(
            "the server declares tools, resources and prompts".to_owned(),
        ));
    };
    let exchange = ctx.request(method, None).await?;
    let era = ctx.era();
    match exchange.error_code() {
        Some(-32601) => Ok(Outcome::Pass(format!(
            "`{capability}` undeclared; `{method}` gave -32601"
        ))),
        _ => Ok(Outcome::Violated(format!(
            "`{capability}` undeclared ({}); `{method}` gave {}",
            if era == Era::Legacy {
                "initialize"
            } else {
                "server/discover"
            },
            exchange.seen()
        ))),
    }
}

/// Passes when there are no problems, else violated with them.
pub(crate) fn verdict(problems: Vec<String>, seen: &Value) -> Outcome {
    if problems.is_empty() {
        Outcome::Pass(crate::clip(&seen.to_string()))
    } else {
        Outcome::Violated(format!(
            "{} in {}",
            problems.join("; "),
            crate::clip(&seen.to_string())
        ))
    }
}
