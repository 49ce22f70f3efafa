//! The relay (docs/sync.md): cart-server places a repriced SPEC-B checkout into an upstream platform
//! by running the engine's request plan natively, with credentials that never reach a browser.
//!
//! `--relay FILE` names a JSON file:
//!
//! ```json
//! { "protocol": "commercetools", "endpoint": "https://api.europe-west1.gcp.commercetools.com/shop",
//!   "auth": { "type": "commercetools-anonymous", "authUrl": "https://auth.europe-west1.gcp.commercetools.com",
//!             "projectKey": "shop", "clientId": "${CT_CLIENT_ID}", "clientSecret": "${CT_CLIENT_SECRET}" } }
//! ```
//!
//! Any string may be `${NAME}`: it is read from the environment at start (a missing variable stops
//! the server, naming the variable). Secrets are never logged, never answered, and `Debug` shows
//! them as `***`.

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use wasm_cart::checkout::{plan_for, HttpRequest, HttpResponse, Protocol, Step, SyncInput, SyncOutcome};
use wasm_cart::{CartError, Catalog};

/// At most this many requests per checkout (a plan that loops is a bug; it ends here).
const MAX_STEPS: usize = 200;
/// Attempts of a request that is safe to repeat (GET, or refused unprocessed with 429).
const ATTEMPTS: u32 = 3;

/// A credential: shown as `***`.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How the relay authenticates upstream.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Auth {
    /// Nothing (the Sylius shop API v2 for guests; Shopware's access key is `accessKey`).
    #[default]
    None,
    /// A fixed bearer token.
    #[serde(rename_all = "camelCase")]
    Bearer { token: Secret },
    /// OAuth 2 client credentials (the distributor's partner API).
    #[serde(rename_all = "camelCase")]
    ClientCredentials {
        token_url: String,
        client_id: String,
        client_secret: Secret,
        scope: Option<String>,
    },
    /// OAuth 2 password grant (the Sylius admin API v1, FOSOAuthServerBundle).
    #[serde(rename_all = "camelCase")]
    Password {
        token_url: String,
        client_id: String,
        client_secret: Secret,
        username: String,
        password: Secret,
    },
    /// commercetools: a new anonymous session per checkout (`/oauth/{projectKey}/anonymous/token`),
    /// so that `/me` carts and order lookups see this checkout's cart only.
    #[serde(rename_all = "camelCase")]
    CommercetoolsAnonymous {
        auth_url: String,
        project_key: String,
        client_id: String,
        client_secret: Secret,
        scope: Option<String>,
    },
}

/// The `--relay` file.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RelayConfig {
    pub protocol: Protocol,
    /// The platform's API base; the plans' paths are appended to it.
    pub endpoint: String,
    #[serde(default)]
    pub auth: Auth,
    /// Shopware's `sw-access-key`.
    pub access_key: Option<Secret>,
    /// Sylius admin v1: the channel code.
    pub channel: Option<String>,
    /// Shopware guest registration: one of the sales channel's domains.
    pub storefront_url: Option<String>,
    /// The platform's payment method code for every relayed order (Sylius), instead of the
    /// browser's `paymentMethodId`.
    pub payment_method: Option<String>,
    /// The distributor's account id (Ion `accounts/{accountId}`), to look up orders.
    pub account_id: Option<String>,
    /// One upstream request's timeout.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_timeout_ms() -> u64 {
    15_000
}

impl RelayConfig {
    /// Reads the file, expanding `${NAME}` from the environment.
    pub fn load(path: &std::path::Path) -> Result<RelayConfig, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read relay config {}: {e}", path.display()))?;
        RelayConfig::parse(&text, |name| std::env::var(name).ok())
    }

    pub fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<RelayConfig, String> {
        let mut value: Value = serde_json::from_str(text).map_err(|e| format!("relay config: {e}"))?;
        expand(&mut value, &env)?;
        let config: RelayConfig = serde_json::from_value(value).map_err(|e| format!("relay config: {e}"))?;
        if config.protocol == Protocol::SpecB {
            return Err("relay config: protocol spec-b is what cart-server answers; relay to another platform".into());
        }
        if !config.endpoint.starts_with("http://") && !config.endpoint.starts_with("https://") {
            return Err("relay config: endpoint must be an http(s) URL".into());
        }
        Ok(config)
    }
}

/// Replaces every string that is exactly `${NAME}` by the variable's value.
fn expand(value: &mut Value, env: &impl Fn(&str) -> Option<String>) -> Result<(), String> {
    match value {
        Value::String(s) => {
            if let Some(name) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                *s = env(name).ok_or_else(|| format!("relay config: the environment variable {name} is not set"))?;
            }
            Ok(())
        }
        Value::Array(items) => items.iter_mut().try_for_each(|v| expand(v, env)),
        Value::Object(map) => map.values_mut().try_for_each(|v| expand(v, env)),
        _ => Ok(()),
    }
}

/// Why an upstream checkout did not end with an order.
#[derive(Debug)]
pub enum RelayError {
    /// The plan's answer: a definite refusal (`PRICE_CHANGED`, the platform's refusal, a bad
    /// configuration), or one marked `outcome: "unknown"` (a lookup that failed).
    Refused(CartError),
    /// No answer where it mattered: whether an order exists upstream is unknown.
    Unknown(String),
}

impl RelayError {
    /// Whether the platform may hold an order after this (then nothing may order the cart again).
    pub fn may_have_ordered(&self) -> bool {
        match self {
            RelayError::Refused(e) => wasm_cart::checkout::plan::is_outcome_unknown(e),
            RelayError::Unknown(_) => true,
        }
    }
}

pub struct Relay {
    config: RelayConfig,
    client: reqwest::Client,
    /// A reusable token (client credentials, password grant) and when it stops being used.
    token: Mutex<Option<(Secret, Instant)>>,
}

impl fmt::Debug for Relay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Relay")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Relay {
    pub fn new(config: RelayConfig) -> Result<Relay, String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.timeout_ms))
            // A redirect would resend the request (a token form with the secret) wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("cart-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("relay: {e}"))?;
        Ok(Relay {
            config,
            client,
            token: Mutex::new(None),
        })
    }

    pub fn protocol(&self) -> Protocol {
        self.config.protocol
    }

    /// Places the order upstream: `input` carries the server's repriced cart and view.
    pub async fn place(&self, mut input: SyncInput, catalog: &Catalog) -> Result<SyncOutcome, RelayError> {
        input.token = self.token().await?.map(|t| t.expose().to_string());
        input.access_key = self.config.access_key.as_ref().map(|k| k.expose().to_string());
        input.channel = self.config.channel.clone().or(input.channel);
        input.storefront_url = self.config.storefront_url.clone().or(input.storefront_url);
        input.payment_method = self.config.payment_method.clone().or(input.payment_method);
        input.account_id = self.config.account_id.clone().or(input.account_id);
        let mut plan = plan_for(self.config.protocol, input, catalog).map_err(RelayError::Refused)?;
        let mut next = plan.next(None);
        for _ in 0..MAX_STEPS {
            match next.map_err(RelayError::Refused)? {
                Step::Done(outcome) => return Ok(outcome),
                Step::Send(request) => {
                    next = match self.send(&request).await {
                        Ok(response) => plan.next(Some(response)),
                        Err(cause) => match plan.no_answer() {
                            Some(step) => step,
                            None => return Err(RelayError::Unknown(cause)),
                        },
                    }
                }
            }
        }
        Err(RelayError::Unknown(format!(
            "the {} plan did not finish",
            self.config.protocol.as_str()
        )))
    }

    /// Sends one request. One that is safe to repeat (a GET) is tried again after a network error,
    /// a 5xx or a 429; any other only after a 429 (refused before it was processed): whether it took
    /// effect is for its plan to find out.
    async fn send(&self, request: &HttpRequest) -> Result<HttpResponse, String> {
        let repeatable = request.method == "GET";
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(250u64 << attempt)).await;
            }
            match self.send_once(request).await {
                Ok(r) if r.status == 429 || (repeatable && r.status >= 500) => {
                    last = format!("HTTP {}", r.status);
                    if attempt + 1 == ATTEMPTS {
                        return Ok(r);
                    }
                }
                Ok(r) => return Ok(r),
                Err(e) if repeatable => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    async fn send_once(&self, request: &HttpRequest) -> Result<HttpResponse, String> {
        let url = format!("{}{}", self.config.endpoint.trim_end_matches('/'), request.path);
        let method = reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|e| e.to_string())?;
        let mut builder = self.client.request(method, &url);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = &request.body {
            builder = builder.body(serde_json::to_vec(body).map_err(|e| e.to_string())?);
        }
        // The error names the method and path, never the headers (they carry the credentials).
        let response = builder
            .send()
            .await
            .map_err(|e| format!("{} {}: {}", request.method, request.path, without_url(&e)))?;
        let status = response.status().as_u16();
        let headers: BTreeMap<String, String> = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_ascii_lowercase(), v.to_str().ok()?.to_string())))
            .collect();
        let bytes = read_limited(response).await?;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(HttpResponse { status, headers, body })
    }

    /// The bearer token for this checkout, if the platform needs one.
    async fn token(&self) -> Result<Option<Secret>, RelayError> {
        let TokenRequest { url, form, basic } = match &self.config.auth {
            Auth::None => return Ok(None),
            Auth::Bearer { token } => return Ok(Some(token.clone())),
            Auth::ClientCredentials {
                token_url,
                client_id,
                client_secret,
                scope,
            } => {
                if let Some(cached) = self.cached() {
                    return Ok(Some(cached));
                }
                let mut form = vec![("grant_type", "client_credentials".to_string())];
                form.extend(scope.iter().map(|s| ("scope", s.clone())));
                TokenRequest {
                    url: token_url.clone(),
                    form,
                    basic: Some((client_id, client_secret)),
                }
            }
            Auth::Password {
                token_url,
                client_id,
                client_secret,
                username,
                password,
            } => {
                if let Some(cached) = self.cached() {
                    return Ok(Some(cached));
                }
                let form = vec![
                    ("grant_type", "password".to_string()),
                    ("client_id", client_id.clone()),
                    ("client_secret", client_secret.expose().to_string()),
                    ("username", username.clone()),
                    ("password", password.expose().to_string()),
                ];
                TokenRequest {
                    url: token_url.clone(),
                    form,
                    basic: None,
                }
            }
            Auth::CommercetoolsAnonymous {
                auth_url,
                project_key,
                client_id,
                client_secret,
                scope,
            } => {
                let mut form = vec![("grant_type", "client_credentials".to_string())];
                form.extend(scope.iter().map(|s| ("scope", s.clone())));
                let url = format!("{}/oauth/{project_key}/anonymous/token", auth_url.trim_end_matches('/'));
                TokenRequest {
                    url,
                    form,
                    basic: Some((client_id, client_secret)),
                }
            }
        };
        let mut builder = self.client.post(&url).form(&form);
        if let Some((id, secret)) = basic {
            builder = builder.basic_auth(id, Some(secret.expose()));
        }
        let unknown = |what: String| RelayError::Unknown(format!("token: {what}"));
        let response = builder.send().await.map_err(|e| unknown(without_url(&e)))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            // The platform's error code only: its body may echo what was sent.
            let code = body.get("error").and_then(Value::as_str).unwrap_or("unknown");
            return Err(RelayError::Refused(
                CartError::new(
                    wasm_cart::ErrorCode::CheckoutFailed,
                    format!("the platform refused the relay's credentials ({code})"),
                )
                .with_details(serde_json::json!({ "step": "token", "status": status.as_u16(), "remoteCode": code })),
            ));
        }
        let token = body
            .get("access_token")
            .and_then(Value::as_str)
            .map(|t| Secret(t.to_string()))
            .ok_or_else(|| unknown("no access_token".into()))?;
        if !matches!(self.config.auth, Auth::CommercetoolsAnonymous { .. }) {
            // At most a day, whatever the platform says (and never an overflowing instant).
            let seconds = body
                .get("expires_in")
                .and_then(Value::as_u64)
                .unwrap_or(300)
                .min(86_400);
            let until = Instant::now()
                .checked_add(Duration::from_secs(seconds.saturating_sub(30)))
                .unwrap_or_else(Instant::now);
            *self.token.lock().unwrap_or_else(|p| p.into_inner()) = Some((token.clone(), until));
        }
        Ok(Some(token))
    }

    fn cached(&self) -> Option<Secret> {
        let cached = self.token.lock().unwrap_or_else(|p| p.into_inner());
        cached
            .as_ref()
            .filter(|(_, until)| Instant::now() < *until)
            .map(|(t, _)| t.clone())
    }
}

/// An OAuth token request: where, the form, and the client for HTTP basic auth.
struct TokenRequest<'a> {
    url: String,
    form: Vec<(&'static str, String)>,
    basic: Option<(&'a str, &'a Secret)>,
}

/// The largest upstream answer the relay reads.
const MAX_ANSWER_BYTES: usize = 4 << 20;

/// An answer's body, at most [`MAX_ANSWER_BYTES`].
async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| without_url(&e))? {
        if body.len().saturating_add(chunk.len()) > MAX_ANSWER_BYTES {
            return Err(format!("the answer is larger than {MAX_ANSWER_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A reqwest error without its URL (a URL may carry a query with something private).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer was cut off"
    } else {
        "request failed"
    };
    kind.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_expand_and_secrets_never_print() {
        let text = r#"{"protocol": "distributor-v3", "endpoint": "https://ion.example",
            "auth": {"type": "client-credentials", "tokenUrl": "https://ion.example/oauth/token",
                     "clientId": "partner", "clientSecret": "${ION_SECRET}"}}"#;
        let config = RelayConfig::parse(text, |n| (n == "ION_SECRET").then(|| "s3cr3t".to_string())).unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        match &config.auth {
            Auth::ClientCredentials { client_secret, .. } => assert_eq!(client_secret.expose(), "s3cr3t"),
            other => panic!("{other:?}"),
        }
        let missing = RelayConfig::parse(text, |_| None).unwrap_err();
        assert!(
            missing.contains("ION_SECRET") && !missing.contains("s3cr3t"),
            "{missing}"
        );
    }

    #[test]
    fn refuses_what_cannot_work() {
        let parse = |t: &str| RelayConfig::parse(t, |_| None);
        assert!(parse(r#"{"protocol": "spec-b", "endpoint": "https://x"}"#).is_err());
        assert!(parse(r#"{"protocol": "sylius", "endpoint": "ftp://x"}"#).is_err());
        assert!(parse(r#"{"protocol": "magento", "endpoint": "https://x"}"#).is_err());
        assert!(parse(r#"{"protocol": "sylius", "endpoint": "https://x", "bogus": 1}"#).is_err());
        let ok = parse(r#"{"protocol": "sylius-shop", "endpoint": "https://x"}"#).unwrap();
        assert_eq!((ok.auth, ok.timeout_ms), (Auth::None, 15_000));
    }
}
