//! The state one [`AuthLayer`](crate::client::AuthLayer) shares between its requests: which
//! authorization server and resource each MCP endpoint is bound to, the client's
//! registrations, and the one authorization (or grant) that may run at a time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mcpwire_http::client::HttpClientService;
use url::Url;

use crate::client::challenge::BearerChallenge;
use crate::client::config::{Authorization, OAuthConfig};
use crate::client::discovery::{Discovered, discover};
use crate::client::dpop::Dpop;
use crate::client::flow::{authorization_code, refresh};
use crate::client::grant::{GrantRequest, TokenGrant};
use crate::client::metadata::resource_covers;
use crate::client::registration::Registrations;
use crate::client::scope::{initial_scopes, union, with_offline_access};
use crate::client::token::{TokenKey, TokenSet, TokenType};
use crate::error::{Error, Kind};
use crate::fetch::Fetcher;
use crate::guard::failing_service;
use crate::secret::Secret;

/// How long before its expiry a token is refreshed ahead of use.
const REFRESH_MARGIN: Duration = Duration::from_secs(30);

/// The most MCP endpoints one layer keeps a binding for.
const MAX_BINDINGS: usize = 16;

/// Which tokens an MCP endpoint gets, and from which server they come.
#[derive(Clone, Debug)]
struct Binding {
    key: TokenKey,
    discovered: Discovered,
}

/// The token a request was sent with, to tell afterwards whether it has changed since.
#[derive(Clone, Debug)]
pub(crate) struct Sent {
    pub(crate) bearer: Option<Secret>,
    pub(crate) token_type: TokenType,
    generation: u64,
}

/// What a re-authorization did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reauthorized {
    /// Another request changed the token meanwhile: retry with it.
    Meanwhile,
    /// The refresh token got a new access token.
    Refreshed,
    /// A stored token of the (re)discovered server is used.
    Reused,
    /// A new authorization ran.
    Authorized,
}

pub(crate) struct Authorizer {
    config: OAuthConfig,
    /// What the client's own requests go through: the configuration's service, or else the
    /// fetch policy's guarded stack.
    fetch_service: HttpClientService,
    registrations: Registrations,
    bindings: Mutex<HashMap<String, Binding>>,
    generation: AtomicU64,
    /// Held while discovering, authorizing or refreshing, so that concurrent `401`s lead to
    /// one authorization.
    running: tokio::sync::Mutex<()>,
    dpop: Option<Dpop>,
}

impl Authorizer {
    pub(crate) fn new(config: OAuthConfig) -> Self {
        let fetch_service = match &config.http_service {
            Some(service) => service.clone(),
            // A failure shows on the first fetch, which is where the stack is needed.
            None => config
                .fetch_policy
                .guarded_service()
                .unwrap_or_else(|error| failing_service(&error)),
        };
        let dpop = config.dpop.clone().map(Dpop::new);
        Authorizer {
            dpop,
            config,
            fetch_service,
            registrations: Registrations::default(),
            bindings: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(0),
            running: tokio::sync::Mutex::new(()),
        }
    }

    pub(crate) fn config(&self) -> &OAuthConfig {
        &self.config
    }

    /// The client's own requests: never through the transport's stack, whose destination
    /// the user chose, since their URLs come from the servers.
    pub(crate) fn fetcher(&self) -> Fetcher {
        Fetcher::new(self.fetch_service.clone(), self.config.fetch_policy.clone())
            .with_dpop(self.dpop.clone())
    }

    /// The DPoP state, when the configuration binds tokens with DPoP.
    pub(crate) fn dpop(&self) -> Option<&Dpop> {
        self.dpop.as_ref()
    }

    fn binding(&self, endpoint: &Url) -> Option<Binding> {
        self.bindings.lock().ok()?.get(endpoint.as_str()).cloned()
    }

    fn bind(&self, endpoint: &Url, binding: Binding) {
        if let Ok(mut bindings) = self.bindings.lock() {
            if bindings.len() >= MAX_BINDINGS && !bindings.contains_key(endpoint.as_str()) {
                bindings.clear();
            }
            bindings.insert(endpoint.as_str().to_owned(), binding);
        }
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The tokens the endpoint is bound to, if its resource covers it.
    fn tokens(&self, endpoint: &Url) -> Option<(Binding, TokenSet)> {
        let binding = self.binding(endpoint)?;
        if !resource_covers(&binding.key.resource, endpoint) {
            return None;
        }
        let tokens = self.config.token_store.get(&binding.key)?;
        Some((binding, tokens))
    }

    /// Whether `tokens` are about to expire and can be renewed: refreshed, or granted again
    /// by a headless grant.
    fn renewable(&self, tokens: &TokenSet) -> bool {
        let grant = matches!(self.config.authorization, Authorization::Grant(_));
        tokens.expires_within(REFRESH_MARGIN) && (grant || tokens.refresh_token.is_some())
    }

    /// The bearer token to send to `endpoint`, renewed first when it is about to expire.
    pub(crate) async fn bearer(&self, fetcher: &Fetcher, endpoint: &Url) -> Sent {
        if let Some((_, tokens)) = self.tokens(endpoint)
            && self.renewable(&tokens)
        {
            let _running = self.running.lock().await;
            // Another request may have renewed it meanwhile.
            if let Some((binding, tokens)) = self.tokens(endpoint)
                && self.renewable(&tokens)
            {
                // A refused or failed renewal leaves the token to the server's `401`.
                let _ = match &self.config.authorization {
                    Authorization::Grant(grant) => {
                        let scopes = tokens.requested_scopes.clone();
                        self.grant(grant.as_ref(), fetcher, endpoint, binding, scopes)
                            .await
                            .map(|()| true)
                    }
                    Authorization::UserAgent(_) => {
                        self.refresh(fetcher, endpoint, &binding, &tokens).await
                    }
                };
            }
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let tokens = self.tokens(endpoint).map(|(_, tokens)| tokens);
        Sent {
            token_type: tokens
                .as_ref()
                .map_or(TokenType::Bearer, |tokens| tokens.token_type),
            bearer: tokens.map(|tokens| tokens.access_token),
            generation,
        }
    }

    /// Refreshes `tokens`; whether that worked. Refused refresh tokens are forgotten.
    async fn refresh(
        &self,
        fetcher: &Fetcher,
        endpoint: &Url,
        binding: &Binding,
        tokens: &TokenSet,
    ) -> Result<bool, Error> {
        let server = &binding.discovered.server;
        let registration = self
            .registrations
            .for_server(&self.config, fetcher, server)
            .await?;
        let resource = binding.discovered.resource_parameter();
        match refresh(fetcher, server, &registration, resource, tokens).await? {
            Some(fresh) => {
                self.config.token_store.put(binding.key.clone(), fresh);
                self.bind(endpoint, binding.clone());
                Ok(true)
            }
            None => {
                self.config.token_store.remove(&binding.key);
                Ok(false)
            }
        }
    }

    /// Answers a `401`: refresh the token that was sent (when `may_refresh`), or else
    /// discover afresh and reuse a stored token of the server found, or authorize.
    pub(crate) async fn unauthorized(
        &self,
        fetcher: &Fetcher,
        endpoint: &Url,
        challenge: &BearerChallenge,
        sent: &Sent,
        may_refresh: bool,
    ) -> Result<Reauthorized, Error> {
        let _running = self.running.lock().await;
        if self.generation.load(Ordering::SeqCst) != sent.generation {
            return Ok(Reauthorized::Meanwhile);
        }
        if let (Some(bearer), Some((binding, tokens))) = (&sent.bearer, self.tokens(endpoint))
            && tokens.access_token == *bearer
        {
            // A failed refresh falls through to a new authorization.
            if may_refresh
                && tokens.refresh_token.is_some()
                && self
                    .refresh(fetcher, endpoint, &binding, &tokens)
                    .await
                    .unwrap_or(false)
            {
                return Ok(Reauthorized::Refreshed);
            }
            // The server refused this token: it is not offered again.
            self.config.token_store.remove(&binding.key);
        }
        let discovered =
            discover(fetcher, endpoint, challenge.resource_metadata.as_deref()).await?;
        let key = key_of(&discovered, endpoint);
        if let Some(stored) = self.config.token_store.get(&key)
            && sent.bearer.as_ref() != Some(&stored.access_token)
        {
            self.bind(endpoint, Binding { key, discovered });
            return Ok(Reauthorized::Reused);
        }
        let scopes = initial_scopes(&challenge.scopes(), discovered.resource.as_ref());
        self.authorize(fetcher, endpoint, discovered, key, scopes)
            .await?;
        Ok(Reauthorized::Authorized)
    }

    /// Answers a `403 insufficient_scope`: authorize again for the scopes asked for before
    /// and those challenged.
    pub(crate) async fn insufficient_scope(
        &self,
        fetcher: &Fetcher,
        endpoint: &Url,
        challenge: &BearerChallenge,
        sent: &Sent,
    ) -> Result<Reauthorized, Error> {
        let _running = self.running.lock().await;
        if self.generation.load(Ordering::SeqCst) != sent.generation {
            return Ok(Reauthorized::Meanwhile);
        }
        let previous = self
            .tokens(endpoint)
            .map(|(_, tokens)| tokens.requested_scopes)
            .unwrap_or_default();
        let discovered =
            discover(fetcher, endpoint, challenge.resource_metadata.as_deref()).await?;
        let key = key_of(&discovered, endpoint);
        let scopes = union(&previous, &challenge.scopes());
        self.authorize(fetcher, endpoint, discovered, key, scopes)
            .await?;
        Ok(Reauthorized::Authorized)
    }

    async fn authorize(
        &self,
        fetcher: &Fetcher,
        endpoint: &Url,
        discovered: Discovered,
        key: TokenKey,
        scopes: Vec<String>,
    ) -> Result<(), Error> {
        let user_agent = match &self.config.authorization {
            Authorization::UserAgent(user_agent) => user_agent,
            Authorization::Grant(grant) => {
                let binding = Binding { key, discovered };
                return self
                    .grant(grant.as_ref(), fetcher, endpoint, binding, scopes)
                    .await;
            }
        };
        // PKCE protects the code: no user is sent to a server that does not offer `S256`.
        discovered.server.check_pkce()?;
        let registration = self
            .registrations
            .for_server(&self.config, fetcher, &discovered.server)
            .await?;
        let scopes = with_offline_access(scopes, self.config.refresh_tokens, &discovered.server);
        let tokens = authorization_code(
            user_agent.as_ref(),
            fetcher,
            &discovered,
            &registration,
            &scopes,
        )
        .await?;
        self.config.token_store.put(key.clone(), tokens);
        self.bind(endpoint, Binding { key, discovered });
        Ok(())
    }

    /// Makes a headless grant for `scopes` at the server of `binding`, and keeps its tokens.
    async fn grant(
        &self,
        grant: &dyn TokenGrant,
        fetcher: &Fetcher,
        endpoint: &Url,
        binding: Binding,
        scopes: Vec<String>,
    ) -> Result<(), Error> {
        let request = GrantRequest::new(
            binding.discovered.server.clone(),
            binding.discovered.resource_parameter().map(str::to_owned),
            scopes.clone(),
            fetcher.clone(),
        );
        let mut tokens =
            grant
                .grant(request)
                .await
                .map_err(|error| match error.downcast::<Error>() {
                    Ok(error) => *error,
                    Err(other) => {
                        Error::new(Kind::Token, "the grant failed").with_boxed_source(other)
                    }
                })?;
        // A grant is made again rather than refreshed: the client has no registration to
        // refresh with, and the grant's own credentials are what a refresh would prove.
        tokens.refresh_token = None;
        tokens.requested_scopes = scopes;
        self.config.token_store.put(binding.key.clone(), tokens);
        self.bind(endpoint, binding);
        Ok(())
    }
}

/// The store key of what discovery found for `endpoint`: the issuer, and the resource
/// identifier (the endpoint itself for a 2025-03-26 server).
fn key_of(discovered: &Discovered, endpoint: &Url) -> TokenKey {
    TokenKey {
        issuer: discovered.server.issuer.clone(),
        resource: discovered
            .resource_parameter()
            .map_or_else(|| endpoint.to_string(), str::to_owned),
    }
}
