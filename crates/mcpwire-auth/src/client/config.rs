//! [`OAuthConfig`]: who the client is and how it behaves.

use std::fmt;
use std::sync::Arc;

use mcpwire_http::client::HttpClientService;
use serde_json::{Value, json};

use crate::client::dpop::DpopProver;
use crate::client::grant::TokenGrant;
use crate::client::token::{MemoryTokenStore, TokenStore};
use crate::client::user_agent::UserAgent;
use crate::fetch::FetchPolicy;
use crate::secret::Secret;

/// The default number of step-up authorizations one request may cause.
pub const DEFAULT_MAX_STEP_UPS: u32 = 2;

/// Client credentials registered with an authorization server beforehand.
#[derive(Clone)]
pub struct PreRegistered {
    pub(crate) client_id: String,
    pub(crate) client_secret: Option<Secret>,
    pub(crate) issuer: Option<String>,
}

impl PreRegistered {
    /// A public client's `client_id`.
    pub fn new(client_id: impl Into<String>) -> Self {
        PreRegistered {
            client_id: client_id.into(),
            client_secret: None,
            issuer: None,
        }
    }

    /// The client secret of a confidential client.
    pub fn client_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// The `issuer` of the authorization server that issued the credentials: they are used
    /// with it only. Without one, the credentials belong to the first authorization server
    /// they are used with, and are never offered to another.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }
}

impl fmt::Debug for PreRegistered {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("PreRegistered")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("issuer", &self.issuer)
            .finish()
    }
}

/// How the client obtains its tokens.
#[derive(Clone)]
pub(crate) enum Authorization {
    /// The authorization code flow, the user authorizing through a user agent.
    UserAgent(Arc<dyn UserAgent>),
    /// A grant the client makes on its own, with no user agent.
    Grant(Arc<dyn TokenGrant>),
}

/// The configuration of the OAuth client: its identity, its user agent (or its grant), its
/// store and its limits. [`AuthLayer::new`](crate::client::AuthLayer::new) takes it.
#[derive(Clone)]
pub struct OAuthConfig {
    pub(crate) client_name: String,
    pub(crate) authorization: Authorization,
    pub(crate) pre_registered: Vec<PreRegistered>,
    pub(crate) client_metadata_url: Option<String>,
    pub(crate) application_type: String,
    pub(crate) refresh_tokens: bool,
    pub(crate) max_step_ups: u32,
    pub(crate) fetch_policy: FetchPolicy,
    pub(crate) http_service: Option<HttpClientService>,
    pub(crate) token_store: Arc<dyn TokenStore>,
    pub(crate) dpop: Option<Arc<dyn DpopProver>>,
}

impl OAuthConfig {
    /// A client named `client_name` (shown by authorization servers) that sends the user to
    /// authorize through `user_agent`, registering dynamically where it must, with an
    /// in-memory token store.
    pub fn new(client_name: impl Into<String>, user_agent: impl UserAgent) -> Self {
        OAuthConfig::with_authorization(client_name, Authorization::UserAgent(Arc::new(user_agent)))
    }

    /// A client named `client_name` that obtains its tokens with `grant`, with no user agent:
    /// a service, a CI job, an agent with no one at the keyboard.
    ///
    /// Discovery, the resource binding, scope selection, the token store and step-up work as
    /// for [`OAuthConfig::new`]. The client never registers and never runs the authorization
    /// code flow (so the settings of registration are not used), asks for no refresh token,
    /// and makes the grant again when its token is about to expire.
    pub fn headless(client_name: impl Into<String>, grant: impl TokenGrant) -> Self {
        let mut config =
            OAuthConfig::with_authorization(client_name, Authorization::Grant(Arc::new(grant)));
        config.refresh_tokens = false;
        config
    }

    fn with_authorization(client_name: impl Into<String>, authorization: Authorization) -> Self {
        OAuthConfig {
            client_name: client_name.into(),
            authorization,
            pre_registered: Vec::new(),
            client_metadata_url: None,
            application_type: "native".to_owned(),
            refresh_tokens: true,
            max_step_ups: DEFAULT_MAX_STEP_UPS,
            fetch_policy: FetchPolicy::default(),
            http_service: None,
            token_store: Arc::new(MemoryTokenStore::new()),
            dpop: None,
        }
    }

    /// Adds pre-registered credentials, which come first among the ways to identify the
    /// client.
    pub fn pre_registered(mut self, credentials: PreRegistered) -> Self {
        self.pre_registered.push(credentials);
        self
    }

    /// The `https` URL (with a path) where the client's Client ID Metadata Document is
    /// served ([`OAuthConfig::client_metadata_document`] writes it): used as the
    /// `client_id` with authorization servers that advertise
    /// `client_id_metadata_document_supported`, ahead of Dynamic Client Registration.
    pub fn client_metadata_url(mut self, url: impl Into<String>) -> Self {
        self.client_metadata_url = Some(url.into());
        self
    }

    /// The OpenID Connect `application_type` sent in Dynamic Client Registration: `native`
    /// (the default: desktop, command-line and loopback clients) or `web`.
    pub fn application_type(mut self, application_type: impl Into<String>) -> Self {
        self.application_type = application_type.into();
        self
    }

    /// Whether the client asks for refresh tokens (on by default): `refresh_token` among its
    /// grant types, and `offline_access` added to the scopes when the authorization server
    /// lists it.
    pub fn refresh_tokens(mut self, wanted: bool) -> Self {
        self.refresh_tokens = wanted;
        self
    }

    /// How many step-up authorizations (after `403 insufficient_scope`) one request may
    /// cause before its `403` is returned ([`DEFAULT_MAX_STEP_UPS`] by default).
    pub fn max_step_ups(mut self, limit: u32) -> Self {
        self.max_step_ups = limit;
        self
    }

    /// The policy of the client's own outbound requests (metadata, registration, token,
    /// and the headless user agent's), and of the guarded HTTP stack they go through.
    pub fn fetch_policy(mut self, policy: FetchPolicy) -> Self {
        self.fetch_policy = policy;
        self
    }

    /// Sends the client's own requests through `service` instead of the fetch policy's
    /// guarded stack ([`FetchPolicy::guarded_service`]): for a proxy, or for tests that
    /// serve everything in-process.
    ///
    /// The policy's URL checks (scheme, user information, literal addresses), body cap and
    /// deadline still apply, but the addresses that host names resolve to are then the
    /// service's business: give a stack that checks them, or one that only reaches servers
    /// you trust, since the URLs come from the servers the client talks to.
    pub fn http_service(mut self, service: HttpClientService) -> Self {
        self.http_service = Some(service);
        self
    }

    /// Binds the client's tokens to a key it holds, with DPoP (RFC 9449): every token
    /// request carries a proof from `prover`, so that the authorization server can bind the
    /// tokens it issues to the prover's key (`token_type` `DPoP`), and each request to the
    /// MCP server presents such a token as `Authorization: DPoP` with a fresh proof for
    /// that request. A stolen DPoP-bound token is useless without the key.
    ///
    /// The client keeps the nonces the servers hand out (`DPoP-Nonce`), and retries a
    /// request once when a server answers `use_dpop_nonce`. An authorization server that
    /// lists `dpop_signing_alg_values_supported` without the prover's algorithm is refused;
    /// one that answers with a `Bearer` token gets it used as such. Dynamic Client
    /// Registration then asks for `dpop_bound_access_tokens`.
    ///
    /// `mcpwire-ext-dpop` provides the prover (a key generated per client, ES256).
    pub fn dpop(mut self, prover: impl DpopProver) -> Self {
        self.dpop = Some(Arc::new(prover));
        self
    }

    /// Where tokens are kept ([`MemoryTokenStore`] by default).
    pub fn token_store(mut self, store: impl TokenStore) -> Self {
        self.token_store = Arc::new(store);
        self
    }

    /// The client metadata (RFC 7591 §2) the client registers with: its name, its redirect
    /// URI, its grant types, `application_type`, and `token_endpoint_auth_method`.
    pub(crate) fn client_metadata(&self, token_endpoint_auth_method: &str) -> Value {
        let mut grant_types = vec!["authorization_code"];
        if self.refresh_tokens {
            grant_types.push("refresh_token");
        }
        let redirect_uris: Vec<&str> = match &self.authorization {
            Authorization::UserAgent(user_agent) => vec![user_agent.redirect_uri()],
            Authorization::Grant(_) => Vec::new(),
        };
        let mut metadata = json!({
            "client_name": self.client_name,
            "redirect_uris": redirect_uris,
            "grant_types": grant_types,
            "response_types": ["code"],
            "token_endpoint_auth_method": token_endpoint_auth_method,
            "application_type": self.application_type,
        });
        if self.dpop.is_some() {
            metadata["dpop_bound_access_tokens"] = Value::Bool(true);
        }
        metadata
    }

    /// The Client ID Metadata Document to serve at [`OAuthConfig::client_metadata_url`],
    /// with `client_id` equal to that URL; `None` without one.
    pub fn client_metadata_document(&self) -> Option<Value> {
        let url = self.client_metadata_url.as_ref()?;
        let mut document = self.client_metadata("none");
        document["client_id"] = Value::String(url.clone());
        Some(document)
    }
}

impl fmt::Debug for OAuthConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redirect_uri = match &self.authorization {
            Authorization::UserAgent(user_agent) => Some(user_agent.redirect_uri()),
            Authorization::Grant(_) => None,
        };
        formatter
            .debug_struct("OAuthConfig")
            .field("client_name", &self.client_name)
            .field("redirect_uri", &redirect_uri)
            .field(
                "headless",
                &matches!(self.authorization, Authorization::Grant(_)),
            )
            .field("pre_registered", &self.pre_registered)
            .field("client_metadata_url", &self.client_metadata_url)
            .field("application_type", &self.application_type)
            .field("refresh_tokens", &self.refresh_tokens)
            .field("max_step_ups", &self.max_step_ups)
            .field("fetch_policy", &self.fetch_policy)
            .field("http_service", &self.http_service.is_some())
            .field(
                "dpop",
                &self
                    .dpop
                    .as_ref()
                    .map(|prover| prover.algorithm().to_owned()),
            )
            .finish_non_exhaustive()
    }
}
