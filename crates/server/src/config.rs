//! The service's limits and addresses: defaults, a TOML file, and overrides from flags or
//! `SKILL_LEDGER_*` environment variables (applied by the command line).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Everything `serve` can be told. Every field has a default; a TOML file may set any of them.
///
/// ```toml
/// listen = "127.0.0.1:8080"
/// body_bytes_max = 131072
/// request_timeout_ms = 10000
/// concurrency_max = 1024
/// verify_rate_per_s = 20.0
/// verify_burst = 40
/// retry_after_s = 1
/// sync_interval_s = 60
/// sync_backoff_max_s = 900
/// access_log = "off"
/// access_log_sample_rate = 0.01
/// public_base_url = "https://zscx.example.cn/"
/// pseudonym_rate_per_s = 2.0
/// pseudonym_burst = 1000
/// pseudonym_items_max = 100
/// pseudonym_timestamp_window_s = 300
/// qr_code = "page"
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on; port 0 picks a free port (printed at start).
    pub listen: SocketAddr,
    /// Largest request body accepted (413 above). An entry is at most 64 KiB, 88 KiB in base64.
    pub body_bytes_max: u64,
    /// Longest wait for a request body (408 after it); a whole request may take twice
    /// this before it is answered 503 with `Retry-After`.
    pub request_timeout_ms: u64,
    /// Requests handled at once; more are answered 503 with `Retry-After` at once.
    pub concurrency_max: u32,
    /// Verifications per second allowed per client address (token bucket); 0 turns the
    /// limit off.
    pub verify_rate_per_s: f64,
    /// Verifications a client may send in a burst above its rate.
    pub verify_burst: u32,
    /// Seconds to wait, told by `Retry-After` on 503 answers.
    pub retry_after_s: u32,
    /// `Cache-Control: max-age` of `/checkpoint`.
    pub checkpoint_max_age_s: u32,
    /// `Cache-Control: max-age` of partial tiles and entry bundles.
    pub partial_tile_max_age_s: u32,
    /// Seconds between pulls of each partner's log (partners.toml), and between requests for
    /// a cosignature of a changed checkpoint.
    pub sync_interval_s: u64,
    /// After failures the wait doubles from `sync_interval_s` up to this many seconds.
    pub sync_backoff_max_s: u64,
    /// Which requests get a line in the log (target `skill_ledger_server::access`, level
    /// INFO): none by default, so the log does not grow with the traffic.
    pub access_log: AccessLog,
    /// With `access_log = "sampled"`, the share of the requests answered below 400 that are
    /// logged, 0 to 1 (every error answer is logged).
    pub access_log_sample_rate: f64,
    /// The address the portal's links and QR codes name, e.g. `https://zscx.example.cn/`
    /// (`http` or `https`, a host, optionally a port and a path; no query, fragment or
    /// credentials). Unset: `http://` and the `listen` address, right for a node reached
    /// where it listens (the demo, loopback). Never taken from a request's `Host` header,
    /// which whoever sends the request chooses.
    pub public_base_url: Option<String>,
    /// Pseudonyms (items of `POST /v1/pseudonyms`) per second allowed per evaluation body
    /// (token bucket); always on.
    pub pseudonym_rate_per_s: f64,
    /// Pseudonyms a body may ask for in a burst above its rate (at least
    /// `pseudonym_items_max`, so that one full request can pass).
    pub pseudonym_burst: u32,
    /// Items one pseudonym request may carry (422 `too-many-items` above).
    pub pseudonym_items_max: u32,
    /// How far, in seconds, a pseudonym request's timestamp may be from the node's clock,
    /// either way (403 `stale-timestamp` beyond).
    pub pseudonym_timestamp_window_s: u64,
    /// What the QR code of a certificate's page opens: `page` (the lookup form with the
    /// number filled in) or `vc` (the credential's W3C Verifiable Credential, for wallets;
    /// only when the ledger issues VCs, the page otherwise).
    pub qr_code: QrCode,
}

/// What the portal's QR codes carry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QrCode {
    /// The certificate's lookup page.
    #[default]
    Page,
    /// The certificate's VC (`/v1/credentials/{cert_no}/vc`).
    Vc,
}

/// Which requests the access log records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessLog {
    /// No line per request.
    #[default]
    Off,
    /// A line per answer with status 400 or above, and per request head refused before
    /// routing.
    Errors,
    /// The errors, and `access_log_sample_rate` of the other requests.
    Sampled,
    /// A line per request.
    All,
}

impl std::str::FromStr for AccessLog {
    type Err = String;

    fn from_str(text: &str) -> Result<AccessLog, String> {
        match text {
            "off" => Ok(AccessLog::Off),
            "errors" => Ok(AccessLog::Errors),
            "sampled" => Ok(AccessLog::Sampled),
            "all" => Ok(AccessLog::All),
            other => Err(format!(
                "access log {other:?}: expected off, errors, sampled or all"
            )),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            body_bytes_max: 128 * 1024,
            request_timeout_ms: 10_000,
            concurrency_max: 1_024,
            verify_rate_per_s: 20.0,
            verify_burst: 40,
            retry_after_s: 1,
            checkpoint_max_age_s: 2,
            partial_tile_max_age_s: 10,
            sync_interval_s: 60,
            sync_backoff_max_s: 900,
            access_log: AccessLog::Off,
            access_log_sample_rate: 0.01,
            public_base_url: None,
            pseudonym_rate_per_s: 2.0,
            pseudonym_burst: 1_000,
            pseudonym_items_max: 100,
            pseudonym_timestamp_window_s: 300,
            qr_code: QrCode::Page,
        }
    }
}

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("{path}: {error}")]
    Parse {
        path: String,
        error: toml::de::Error,
    },
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
}

impl ServerConfig {
    /// Reads a TOML file; fields it does not set keep their defaults, unknown fields are refused.
    pub fn from_toml_file(path: &Path) -> Result<ServerConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.display().to_string(),
            error,
        })?;
        toml::from_str(&text).map_err(|error| ConfigError::Parse {
            path: path.display().to_string(),
            error,
        })
    }

    /// Checks the bounds: every limit must be a limit.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field, reason: &str| {
            Err(ConfigError::Invalid {
                field,
                reason: reason.to_string(),
            })
        };
        if self.body_bytes_max < 1_024 || self.body_bytes_max > 64 * 1024 * 1024 {
            return invalid("body_bytes_max", "must be between 1024 and 67108864 bytes");
        }
        if self.request_timeout_ms == 0 || self.request_timeout_ms > 600_000 {
            return invalid("request_timeout_ms", "must be between 1 and 600000");
        }
        if self.concurrency_max == 0 || self.concurrency_max > 1_000_000 {
            return invalid("concurrency_max", "must be between 1 and 1000000");
        }
        if !self.verify_rate_per_s.is_finite() || self.verify_rate_per_s < 0.0 {
            return invalid("verify_rate_per_s", "must be 0 (off) or a positive number");
        }
        if self.verify_rate_per_s > 0.0 && self.verify_burst == 0 {
            return invalid("verify_burst", "must be at least 1 when a rate is set");
        }
        if self.retry_after_s == 0 || self.retry_after_s > 3_600 {
            return invalid("retry_after_s", "must be between 1 and 3600");
        }
        if self.sync_interval_s == 0 || self.sync_interval_s > 86_400 {
            return invalid("sync_interval_s", "must be between 1 and 86400");
        }
        if self.sync_backoff_max_s < self.sync_interval_s || self.sync_backoff_max_s > 86_400 {
            return invalid(
                "sync_backoff_max_s",
                "must be between sync_interval_s and 86400",
            );
        }
        if !(0.0..=1.0).contains(&self.access_log_sample_rate) {
            return invalid("access_log_sample_rate", "must be between 0 and 1");
        }
        if let Some(url) = &self.public_base_url {
            if let Err(reason) = check_public_base_url(url) {
                return invalid("public_base_url", &reason);
            }
        }
        if !self.pseudonym_rate_per_s.is_finite()
            || self.pseudonym_rate_per_s <= 0.0
            || self.pseudonym_rate_per_s > 1_000_000.0
        {
            return invalid(
                "pseudonym_rate_per_s",
                "must be a positive number up to 1000000 (the pseudonym service is always rate-limited)",
            );
        }
        if self.pseudonym_items_max == 0 || self.pseudonym_items_max > 10_000 {
            return invalid("pseudonym_items_max", "must be between 1 and 10000");
        }
        if self.pseudonym_burst < self.pseudonym_items_max || self.pseudonym_burst > 1_000_000 {
            return invalid(
                "pseudonym_burst",
                "must be between pseudonym_items_max and 1000000",
            );
        }
        if self.pseudonym_timestamp_window_s == 0 || self.pseudonym_timestamp_window_s > 86_400 {
            return invalid(
                "pseudonym_timestamp_window_s",
                "must be between 1 and 86400",
            );
        }
        Ok(())
    }

    /// The base of the portal's public links, without a trailing `/`: `public_base_url`,
    /// or `http://` and the `listen` address.
    pub fn public_base_url(&self) -> String {
        match &self.public_base_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.listen),
        }
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}

/// Longest public base URL accepted (it goes into every QR code, which holds a few hundred
/// characters at medium error correction).
const PUBLIC_BASE_URL_CHARS_MAX: usize = 200;

/// An `http(s)://host[:port][/path]` address with nothing a page could misread: no query,
/// fragment, credentials, white space or characters that need escaping in HTML.
fn check_public_base_url(url: &str) -> Result<(), String> {
    if url.chars().count() > PUBLIC_BASE_URL_CHARS_MAX {
        return Err(format!(
            "must be at most {PUBLIC_BASE_URL_CHARS_MAX} characters"
        ));
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("{url:?} must start with http:// or https://"))?;
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~/:%[]".contains(c);
    if let Some(bad) = rest.chars().find(|c| !allowed(*c)) {
        return Err(format!(
            "{url:?} has {bad:?}: only a host, a port and a path (no query, fragment or credentials)"
        ));
    }
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Err(format!("{url:?} names no host"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_sets_some_fields_and_keeps_the_other_defaults() {
        let config: ServerConfig =
            toml::from_str("listen = \"127.0.0.1:0\"\nverify_burst = 5\n").unwrap();
        assert_eq!(config.listen.port(), 0);
        assert_eq!(config.verify_burst, 5);
        assert_eq!(
            config.body_bytes_max,
            ServerConfig::default().body_bytes_max
        );
        assert!(config.validate().is_ok());
    }

    #[test]
    fn unknown_fields_and_broken_limits_are_refused() {
        assert!(toml::from_str::<ServerConfig>("listen_adress = \"x\"").is_err());
        let config = ServerConfig {
            concurrency_max: 0,
            ..ServerConfig::default()
        };
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains("concurrency_max"), "{error}");
        let config = ServerConfig {
            access_log_sample_rate: 1.5,
            ..ServerConfig::default()
        };
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains("access_log_sample_rate"), "{error}");
        // One full pseudonym request must fit in the burst, and the service is always limited.
        let config = ServerConfig {
            pseudonym_items_max: 200,
            pseudonym_burst: 100,
            ..ServerConfig::default()
        };
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains("pseudonym_burst"), "{error}");
        let config = ServerConfig {
            pseudonym_rate_per_s: 0.0,
            ..ServerConfig::default()
        };
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains("pseudonym_rate_per_s"), "{error}");
    }

    #[test]
    fn the_public_base_url_is_the_configured_one_or_the_listen_address() {
        let config = ServerConfig::default();
        assert_eq!(config.public_base_url(), "http://127.0.0.1:8080");
        let config: ServerConfig =
            toml::from_str("public_base_url = \"https://zscx.example.cn/cx/\"\n").unwrap();
        assert!(config.validate().is_ok());
        assert_eq!(config.public_base_url(), "https://zscx.example.cn/cx");
        for bad in [
            "javascript:alert(1)",
            "ftp://example.cn",
            "https://",
            "https://:8080/",
            "https://user@example.cn/",
            "https://example.cn/?a=1",
            "https://example.cn/#x",
            "https://example.cn/a b",
            "https://example.cn/\"><script>",
        ] {
            let config = ServerConfig {
                public_base_url: Some(bad.to_string()),
                ..ServerConfig::default()
            };
            let error = config.validate().expect_err(bad).to_string();
            assert!(error.contains("public_base_url"), "{bad}: {error}");
        }
    }

    #[test]
    fn the_access_log_is_off_unless_a_file_or_flag_says_otherwise() {
        assert_eq!(ServerConfig::default().access_log, AccessLog::Off);
        let config: ServerConfig =
            toml::from_str("access_log = \"sampled\"\naccess_log_sample_rate = 0.1\n").unwrap();
        assert_eq!(config.access_log, AccessLog::Sampled);
        assert!(config.validate().is_ok());
        assert!(toml::from_str::<ServerConfig>("access_log = \"some\"").is_err());
        assert_eq!("errors".parse::<AccessLog>(), Ok(AccessLog::Errors));
        assert!("loud".parse::<AccessLog>().is_err());
    }
}
