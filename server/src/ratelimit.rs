//! A token bucket per client: `limit` tokens, refilled continuously at `limit` per minute. Every API
//! request takes one token; an empty bucket answers 429 `RATE_LIMITED`. A client is an IPv4 address or
//! an IPv6 /64: one subscriber gets a whole /64, so keying by the full address would give anyone
//! unlimited buckets. An IPv4-mapped IPv6 address counts as its IPv4 address.
//!
//! Where the buckets live: in this process ([`RateLimiter`]) on SQLite; in the database on PostgreSQL
//! (`Store::take_token`), so that every instance draws from the same bucket. Behind a reverse proxy,
//! `--trusted-proxy` names the proxies whose `X-Forwarded-For` is believed ([`client_ip`]).

use ipnet::IpNet;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Buckets kept before idle (full) ones are dropped.
const MAX_TRACKED: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

#[derive(Debug)]
pub struct RateLimiter {
    limit: u32,
    per_second: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

/// The outcome of one request, for the `X-RateLimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// `X-RateLimit-Limit`: the bucket's size (requests per minute).
    pub limit: u32,
    /// `X-RateLimit-Remaining`: whole tokens left after this request.
    pub remaining: u32,
    /// `X-RateLimit-Reset`: Unix time (seconds) at which the bucket is full again.
    pub reset: u64,
    /// `Retry-After` (seconds) when refused: until the next token.
    pub retry_after: u64,
}

impl RateLimiter {
    /// `limit` requests per minute (at least 1).
    pub fn new(limit: u32) -> RateLimiter {
        let limit = limit.max(1);
        RateLimiter {
            limit,
            per_second: f64::from(limit) / 60.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn check(&self, client: IpAddr) -> Decision {
        self.check_at(client_key(client), Instant::now(), SystemTime::now())
    }

    fn check_at(&self, client: IpAddr, now: Instant, wall: SystemTime) -> Decision {
        let capacity = f64::from(self.limit);
        let mut buckets = match self.buckets.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if buckets.len() >= MAX_TRACKED {
            let per_second = self.per_second;
            buckets
                .retain(|_, b| b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * per_second < capacity);
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: capacity,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(capacity);
        bucket.last = now;
        let allowed = bucket.tokens >= 1.0;
        if allowed {
            bucket.tokens -= 1.0;
        }
        let tokens = bucket.tokens;
        drop(buckets);
        decision(self.limit, tokens, allowed, wall)
    }
}

/// A bucket of `limit` tokens per minute: its capacity and refill rate per millisecond.
pub fn bucket_shape(limit: u32) -> (f64, f64) {
    let limit = f64::from(limit.max(1));
    (limit, limit / 60_000.0)
}

/// The headers' figures for a bucket left with `tokens` after a request that was `allowed` or not.
pub fn decision(limit: u32, tokens: f64, allowed: bool, wall: SystemTime) -> Decision {
    let limit = limit.max(1);
    let capacity = f64::from(limit);
    let per_second = capacity / 60.0;
    let epoch = wall.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs_f64();
    let until_full = (capacity - tokens).max(0.0) / per_second;
    let until_next = (1.0 - tokens).max(0.0) / per_second;
    Decision {
        allowed,
        limit,
        remaining: tokens.floor().clamp(0.0, capacity) as u32,
        reset: (epoch + until_full).ceil() as u64,
        retry_after: if allowed { 0 } else { until_next.ceil().max(1.0) as u64 },
    }
}

/// The client a request counts against. The TCP peer, unless it is one of the `trusted` proxies: then
/// `X-Forwarded-For` is read from the right (each proxy appends the address it received from), past
/// every trusted proxy, to the first address no trusted proxy owns. An entry that is not an address
/// stops the walk at the last trusted hop (nothing left of it can be believed).
pub fn client_ip(peer: IpAddr, forwarded_for: &[&str], trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(&canonical(*ip)));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    let hops = forwarded_for.iter().rev().flat_map(|h| h.rsplit(',')).map(str::trim);
    for hop in hops {
        match parse_hop(hop) {
            Some(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            None => break,
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, or an address with a port (`203.0.113.9:4711`,
/// `[2001:db8::1]:4711`), as some proxies write them.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
}

/// An IPv4-mapped IPv6 address as its IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// The bucket a peer address counts against: IPv4 as it is, IPv6 by its /64 network.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(std::net::Ipv6Addr::from(network))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn bucket_empties_refills_and_is_per_client() {
        let limiter = RateLimiter::new(3);
        let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        let t0 = Instant::now();
        let wall = UNIX_EPOCH + Duration::from_secs(1_000);
        let remaining: Vec<u32> = (0..3).map(|_| limiter.check_at(a, t0, wall).remaining).collect();
        assert_eq!(remaining, vec![2, 1, 0]);
        let refused = limiter.check_at(a, t0, wall);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after, 20); // 3 per minute: one token every 20 s
        assert_eq!(refused.reset, 1_060);
        assert!(limiter.check_at(b, t0, wall).allowed);
        let later = limiter.check_at(a, t0 + Duration::from_secs(20), wall);
        assert!(later.allowed);
        assert_eq!(later.remaining, 0);
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // An untrusted peer is the client, whatever it claims.
        assert_eq!(client_ip(ip("203.0.113.9"), &["1.2.3.4"], &trusted), ip("203.0.113.9"));
        // Through one trusted proxy.
        assert_eq!(
            client_ip(ip("10.0.0.2"), &["198.51.100.7"], &trusted),
            ip("198.51.100.7")
        );
        // A client that sends its own X-Forwarded-For cannot choose its bucket: the proxy appended the
        // real address, and the walk stops at the first untrusted one from the right.
        assert_eq!(
            client_ip(ip("10.0.0.2"), &["6.6.6.6, 198.51.100.7"], &trusted),
            ip("198.51.100.7")
        );
        // Two trusted hops, split over two headers; an IPv4-mapped peer counts as IPv4.
        assert_eq!(
            client_ip(ip("::ffff:10.0.0.3"), &["198.51.100.7, 10.0.0.9", "10.0.0.2"], &trusted),
            ip("198.51.100.7")
        );
        // Ports, as some proxies write them.
        assert_eq!(
            client_ip(ip("10.0.0.2"), &["198.51.100.7:4711"], &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), &["[2001:db8::7]:4711"], &trusted),
            ip("2001:db8::7")
        );
        // Garbage stops the walk at the last trusted hop; no header: the proxy itself.
        assert_eq!(client_ip(ip("10.0.0.2"), &["nonsense"], &trusted), ip("10.0.0.2"));
        assert_eq!(client_ip(ip("::1"), &[], &trusted), ip("::1"));
        assert_eq!(client_ip(ip("10.0.0.2"), &["x"], &[]), ip("10.0.0.2"));
    }

    #[test]
    fn an_ipv6_64_is_one_client() {
        let limiter = RateLimiter::new(2);
        let host = |last: u16| IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, last));
        assert!(limiter.check(host(1)).allowed);
        assert!(limiter.check(host(2)).allowed);
        // Another address of the same /64 draws from the same, now empty, bucket.
        assert!(!limiter.check(host(0xffff)).allowed);
        let other_net = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 3, 0, 0, 0, 1));
        assert!(limiter.check(other_net).allowed);
        // ::ffff:10.0.0.9 is 10.0.0.9.
        let mapped: IpAddr = "::ffff:10.0.0.9".parse().unwrap();
        assert_eq!(client_key(mapped), IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9)));
    }
}
