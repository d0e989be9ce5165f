//! The SSRF-guarded HTTP client: the only way Relais fetches a URL.

use futures_util::StreamExt;
use relais_domain::Msg;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// Why a fetch failed, by kind.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    /// The URL is malformed or not http(s).
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// The host resolves to an address Relais refuses to reach (SSRF guard).
    #[error("address refused: {0}")]
    Refused(String),
    /// The server could not be reached or did not answer in time.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// The server answered with an error status.
    #[error("HTTP status {0}")]
    Status(u16),
    /// The answer was larger than allowed.
    #[error("response larger than {0} bytes")]
    TooLarge(usize),
    /// The answer could not be decoded.
    #[error("unreadable response: {0}")]
    Decode(String),
    /// The server is busy or limiting us (429 or 503) and said when to come back
    /// (`Retry-After`). Only [`GuardedClient::get_conditional`] reports it; other calls keep
    /// [`FetchError::Status`].
    #[error("HTTP status {status}, retry after {after:?}")]
    RetryLater {
        /// The status (429 or 503).
        status: u16,
        /// When to come back.
        after: RetryAfter,
    },
}

impl FetchError {
    /// A message for people, in French and English.
    pub fn message(&self, url: &str) -> Msg {
        match self {
            FetchError::InvalidUrl(_) => Msg::new(
                format!("`{url}` is not a valid web address"),
                format!("« {url} » n'est pas une adresse web valide"),
            ),
            FetchError::Refused(why) => Msg::new(
                format!("Relais does not connect to {url}: {why} (an administrator can allow this host)"),
                format!("Relais ne se connecte pas à {url} : {why} (un administrateur peut autoriser cet hôte)"),
            ),
            FetchError::Unreachable(e) => {
                Msg::new(format!("{url} could not be reached: {e}"), format!("{url} est injoignable : {e}"))
            }
            FetchError::Status(code) => Msg::new(
                format!("{url} answered with HTTP status {code}"),
                format!("{url} a répondu avec le statut HTTP {code}"),
            ),
            FetchError::TooLarge(max) => {
                Msg::new(format!("{url} sent more than {max} bytes"), format!("{url} a envoyé plus de {max} octets"))
            }
            FetchError::Decode(e) => Msg::new(
                format!("{url} sent an unreadable answer: {e}"),
                format!("{url} a envoyé une réponse illisible : {e}"),
            ),
            FetchError::RetryLater { status, .. } => Msg::new(
                format!("{url} is busy (HTTP status {status}) and asked to come back later"),
                format!("{url} est occupé (statut HTTP {status}) et demande de revenir plus tard"),
            ),
        }
    }
}

/// Whether an address is one Relais must not reach on a user's behalf: loopback, private,
/// shared (CGNAT), link-local (including cloud metadata 169.254.169.254), unspecified,
/// multicast, broadcast, documentation and reserved ranges, IPv6 unique-local and link-local,
/// and IPv4 addresses mapped into IPv6.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (first == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
                || (first == 0x0064 && v6.segments()[1] == 0xff9b) // NAT64 (could reach IPv4 inside)
                || v6 == Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 1)
        }
    }
}

fn forbidden_v4(v4: Ipv4Addr) -> bool {
    let [a, b, _, _] = v4.octets();
    v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_multicast()
        || v4.is_broadcast()
        || v4.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space 100.64.0.0/10
        || (a == 192 && b == 0 && v4.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

/// An HTTP client that checks every destination before connecting.
#[derive(Debug, Clone)]
pub struct GuardedClient {
    /// Hosts (`host` or `host:port`) an administrator allowed even though they resolve to a
    /// refused address (e.g. a Mastodon server on the private network, or test peers).
    allowed_hosts: Vec<String>,
    timeout: Duration,
    max_bytes: usize,
}

impl GuardedClient {
    /// A client refusing every internal address, with a 15 s timeout and a 2 MiB answer limit.
    pub fn new(allowed_hosts: Vec<String>) -> Self {
        GuardedClient { allowed_hosts, timeout: Duration::from_secs(15), max_bytes: 2 * 1024 * 1024 }
    }

    /// The same client with other limits.
    pub fn with_limits(mut self, timeout: Duration, max_bytes: usize) -> Self {
        self.timeout = timeout;
        self.max_bytes = max_bytes;
        self
    }

    fn allowed(&self, host: &str, port: u16) -> bool {
        let with_port = format!("{host}:{port}");
        self.allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(host) || h.eq_ignore_ascii_case(&with_port))
    }

    /// Resolves the URL's host and checks every address; returns the parsed URL and the address
    /// to connect to.
    pub async fn vet(&self, raw: &str) -> Result<(url::Url, SocketAddr), FetchError> {
        let url = url::Url::parse(raw).map_err(|e| FetchError::InvalidUrl(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || !url.username().is_empty() || url.password().is_some() {
            return Err(FetchError::InvalidUrl("only http and https, without credentials".into()));
        }
        let host =
            url.host_str().ok_or_else(|| FetchError::InvalidUrl("no host".into()))?.trim_matches(['[', ']']).to_owned();
        let port = url.port_or_known_default().ok_or_else(|| FetchError::InvalidUrl("no port".into()))?;
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| FetchError::Unreachable(e.to_string()))?
            .collect();
        let first = *addrs.first().ok_or_else(|| FetchError::Unreachable("no address".into()))?;
        if !self.allowed(&host, port)
            && let Some(bad) = addrs.iter().find(|a| is_forbidden(a.ip()))
        {
            return Err(FetchError::Refused(format!("{} is an internal address", bad.ip())));
        }
        Ok((url, first))
    }

    /// GETs a URL and decodes its JSON answer, within the size and time limits.
    pub async fn get_json(&self, raw: &str) -> Result<serde_json::Value, FetchError> {
        let bytes = self.get_bytes(raw).await?;
        serde_json::from_slice(&bytes).map_err(|e| FetchError::Decode(e.to_string()))
    }

    /// A client for one vetted URL: the host is pinned to the checked address (no DNS
    /// rebinding between the check and the connection), redirects are not followed, and the
    /// time limit applies. Network clients build their requests on it; the caller must only
    /// send requests to the returned URL's host.
    pub async fn pinned(&self, raw: &str) -> Result<(reqwest::Client, url::Url), FetchError> {
        self.pinned_with(raw, |b| b.timeout(self.timeout)).await
    }

    /// [`Self::pinned`] for a long-lived answer (a stream of events): no limit on the whole
    /// exchange, only on connecting and on each wait for more bytes (`idle`).
    pub async fn pinned_stream(&self, raw: &str, idle: Duration) -> Result<(reqwest::Client, url::Url), FetchError> {
        self.pinned_with(raw, |b| b.read_timeout(idle)).await
    }

    async fn pinned_with(
        &self,
        raw: &str,
        limits: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
    ) -> Result<(reqwest::Client, url::Url), FetchError> {
        let (url, addr) = self.vet(raw).await?;
        let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']).to_owned();
        let builder = reqwest::Client::builder()
            .resolve(&host, addr)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.timeout)
            .user_agent(concat!("Relais/", env!("CARGO_PKG_VERSION")));
        let client = limits(builder).build().map_err(|e| FetchError::Unreachable(e.to_string()))?;
        Ok((client, url))
    }

    /// The largest answer this client reads.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// POSTs a JSON body and returns the answer's status (the body is read within the size limit
    /// and dropped). Redirects are not followed.
    pub async fn post_json(&self, raw: &str, body: &serde_json::Value) -> Result<u16, FetchError> {
        let (client, url) = self.pinned(raw).await?;
        let response = client.post(url).json(body).send().await.map_err(|e| FetchError::Unreachable(e.to_string()))?;
        let status = response.status().as_u16();
        let mut stream = response.bytes_stream();
        let mut read = 0;
        while let Some(chunk) = stream.next().await {
            read += chunk.map_err(|e| FetchError::Unreachable(e.to_string()))?.len();
            if read > self.max_bytes {
                break;
            }
        }
        Ok(status)
    }

    /// GETs a URL's body, within the size and time limits. Redirects are not followed.
    pub async fn get_bytes(&self, raw: &str) -> Result<Vec<u8>, FetchError> {
        let (client, url) = self.pinned(raw).await?;
        let response = client.get(url).send().await.map_err(|e| FetchError::Unreachable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| FetchError::Unreachable(e.to_string()))?;
            if body.len() + chunk.len() > self.max_bytes {
                return Err(FetchError::TooLarge(self.max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// When a server asked us to come back (`Retry-After`: a number of seconds or an HTTP date).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// After this many seconds.
    Secs(u64),
    /// At this instant, in milliseconds since the Unix epoch.
    AtMs(i64),
}

impl RetryAfter {
    /// Parses a `Retry-After` value (`120` or `Wed, 21 Oct 2015 07:28:00 GMT`).
    pub fn parse(value: &str) -> Option<RetryAfter> {
        let value = value.trim();
        if let Ok(secs) = value.parse::<u64>() {
            return Some(RetryAfter::Secs(secs));
        }
        let zoned = jiff::fmt::rfc2822::parse(value).ok()?;
        Some(RetryAfter::AtMs(zoned.timestamp().as_millisecond()))
    }

    /// The delay in seconds from `now_ms` (zero when the date is past).
    pub fn delay_secs(self, now_ms: i64) -> u64 {
        match self {
            RetryAfter::Secs(secs) => secs,
            RetryAfter::AtMs(at) => u64::try_from(at.saturating_sub(now_ms)).unwrap_or(0).div_ceil(1000),
        }
    }
}

/// An answer read within the client's limits, whatever its status (redirects not followed).
#[derive(Debug, Clone)]
pub struct Answer {
    /// The URL that answered.
    pub url: url::Url,
    /// The HTTP status.
    pub status: u16,
    /// The answer's headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body (at most [`GuardedClient::max_bytes`]).
    pub body: Vec<u8>,
}

impl Answer {
    /// A header's value, when present and readable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What a server told about caching an answer, and where the resource lives now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Freshness {
    /// The `ETag` validator, to send back as `If-None-Match`.
    pub etag: Option<String>,
    /// The `Last-Modified` validator, to send back as `If-Modified-Since`.
    pub last_modified: Option<String>,
    /// `Cache-Control: max-age`, in seconds.
    pub max_age_secs: Option<u64>,
    /// The new address when every redirect on the way was permanent (301, 308): the caller
    /// should fetch that one from now on.
    pub moved_to: Option<String>,
}

/// The answer to a conditional GET.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conditional {
    /// `304 Not Modified`: the copy the caller has is current. Validators the server sent
    /// again are in the freshness (usually the same as the ones sent).
    NotModified(Freshness),
    /// A new body.
    Fresh {
        /// The body, within the size limit.
        body: Vec<u8>,
        /// Validators and cache hints to keep for the next request.
        freshness: Freshness,
    },
}

/// How many redirects [`GuardedClient::get_conditional`] follows (each hop vetted again).
pub const MAX_REDIRECTS: usize = 5;

impl GuardedClient {
    /// GETs a URL with extra request headers and returns the answer whatever its status, with
    /// its headers; the body is read within the size limit ([`FetchError::TooLarge`] beyond).
    /// The destination is vetted and pinned like every request; redirects are not followed.
    pub async fn get_answer(&self, raw: &str, headers: reqwest::header::HeaderMap) -> Result<Answer, FetchError> {
        let (client, url) = self.pinned(raw).await?;
        let response = client
            .get(url.clone())
            .headers(headers)
            .send()
            .await
            .map_err(|e| FetchError::Unreachable(e.to_string()))?;
        let (status, headers) = (response.status().as_u16(), response.headers().clone());
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| FetchError::Unreachable(e.to_string()))?;
            if body.len() + chunk.len() > self.max_bytes {
                return Err(FetchError::TooLarge(self.max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer { url, status, headers, body })
    }

    /// A conditional GET: sends `If-None-Match` / `If-Modified-Since` when the caller has
    /// validators, and returns [`Conditional::NotModified`] on `304`. Follows up to
    /// [`MAX_REDIRECTS`] redirects, vetting and pinning every hop like the first request (a
    /// redirect to an internal address is refused). A 429 or 503 with a `Retry-After` header is
    /// [`FetchError::RetryLater`]; other error statuses are [`FetchError::Status`]. Validators
    /// that are not valid header values are not sent.
    pub async fn get_conditional(
        &self,
        raw: &str,
        etag: Option<&str>,
        last_modified: Option<&str>,
    ) -> Result<Conditional, FetchError> {
        use reqwest::header::{HeaderMap, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH};
        let mut headers = HeaderMap::new();
        if let Some(value) = etag.and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(IF_NONE_MATCH, value);
        }
        if let Some(value) = last_modified.and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(IF_MODIFIED_SINCE, value);
        }
        let (mut current, mut permanent) = (raw.to_owned(), true);
        for _ in 0..=MAX_REDIRECTS {
            let answer = self.get_answer(&current, headers.clone()).await?;
            match answer.status {
                301 | 302 | 303 | 307 | 308 => {
                    permanent &= matches!(answer.status, 301 | 308);
                    let location = answer.header("location").ok_or(FetchError::Status(answer.status))?;
                    let next = answer.url.join(location).map_err(|e| FetchError::InvalidUrl(e.to_string()))?;
                    current = next.to_string();
                }
                _ => {
                    let moved_to = (permanent && current != raw).then(|| current.clone());
                    return conditional_outcome(answer, moved_to);
                }
            }
        }
        Err(FetchError::Unreachable(format!("more than {MAX_REDIRECTS} redirects")))
    }
}

/// Turns the final answer of a conditional GET into its outcome.
fn conditional_outcome(answer: Answer, moved_to: Option<String>) -> Result<Conditional, FetchError> {
    let text = |name: &str| answer.header(name).map(str::to_owned);
    let freshness = Freshness {
        etag: text("etag"),
        last_modified: text("last-modified"),
        max_age_secs: answer.header("cache-control").and_then(max_age),
        moved_to,
    };
    match answer.status {
        304 => Ok(Conditional::NotModified(freshness)),
        200..=299 => Ok(Conditional::Fresh { body: answer.body, freshness }),
        status @ (429 | 503) => match answer.header("retry-after").and_then(RetryAfter::parse) {
            Some(after) => Err(FetchError::RetryLater { status, after }),
            None => Err(FetchError::Status(status)),
        },
        status => Err(FetchError::Status(status)),
    }
}

/// `max-age` from a `Cache-Control` value (`public, max-age=600`).
fn max_age(cache_control: &str) -> Option<u64> {
    cache_control.split(',').find_map(|directive| {
        let (name, value) = directive.split_once('=')?;
        name.trim().eq_ignore_ascii_case("max-age").then(|| value.trim().trim_matches('"').parse().ok())?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_addresses() {
        let check = |ip: &str, expected: bool| {
            assert_eq!(is_forbidden(ip.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))), expected, "{ip}")
        };
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "240.0.0.1",
        ] {
            check(ip, true);
        }
        for ip in ["1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "100.128.0.1", "172.32.0.1"] {
            check(ip, false);
        }
    }

    #[tokio::test]
    async fn vetting_refuses_internal_hosts_unless_allowed() {
        let client = GuardedClient::new(vec![]);
        for url in [
            "http://127.0.0.1:9/",
            "http://localhost/",
            "http://[::1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/",
        ] {
            assert!(matches!(client.vet(url).await, Err(FetchError::Refused(_))), "{url}");
        }
        for url in ["ftp://example.com/", "http://user:pw@example.com/", "not a url", "file:///etc/passwd"] {
            assert!(matches!(client.vet(url).await, Err(FetchError::InvalidUrl(_))), "{url}");
        }
        let allowed = GuardedClient::new(vec!["127.0.0.1:9".into()]);
        assert!(allowed.vet("http://127.0.0.1:9/").await.is_ok());
        assert!(
            matches!(allowed.vet("http://127.0.0.1:10/").await, Err(FetchError::Refused(_))),
            "the port is part of the rule"
        );
    }

    #[test]
    fn retry_after_and_max_age() {
        assert_eq!(RetryAfter::parse(" 120 "), Some(RetryAfter::Secs(120)));
        let date = RetryAfter::parse("Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(date, Some(RetryAfter::AtMs(1_445_412_480_000)));
        assert_eq!(date.map(|d| d.delay_secs(1_445_412_480_000 - 90_500)), Some(91));
        assert_eq!(date.map(|d| d.delay_secs(1_445_412_480_000 + 5_000)), Some(0));
        assert_eq!(RetryAfter::parse("soon"), None);
        assert_eq!(max_age("public, max-age=600"), Some(600));
        assert_eq!(max_age("no-cache, MAX-AGE=\"60\""), Some(60));
        assert_eq!(max_age("no-store"), None);
        assert_eq!(max_age("max-age=-1"), None);
    }
}
