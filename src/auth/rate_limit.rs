//! Rate limits, in memory: sign-in failures ([`LoginLimiter`]), requests on the survey
//! and opt-out links ([`IpLimiter`], governor's GCRA) and request API calls per API key
//! ([`KeyLimiter`], GCRA too, with the wait for Retry-After). Each `pulse serve` instance counts
//! on its own; behind a load balancer with N instances an attacker gets at most N times
//! the budget, still far too little to guess passwords.

use std::collections::{HashMap, VecDeque};
use std::num::NonZeroU32;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// How far back sign-in failures count.
const WINDOW: Duration = Duration::from_secs(60);

/// Sign-in limiting that slows attackers without letting a stranger lock an admin out.
/// Only **failed** attempts count (a successful sign-in costs nothing):
///
/// * an address (client IP) with `per_minute` failures in the last minute is refused, for
///   every account — that slows one guesser;
/// * an account with `per_minute` failures in the last minute (from any addresses) is
///   *under attack*: while it is, each address gets one failure on it per minute, then
///   waits. An address that has not failed on the account — the real owner's — still signs
///   in with the right password.
pub struct LoginLimiter {
    per_minute: usize,
    failures: Mutex<Failures>,
}

#[derive(Default)]
struct Failures {
    by_ip: HashMap<String, VecDeque<Instant>>,
    by_account: HashMap<String, VecDeque<Instant>>,
    by_ip_and_account: HashMap<(String, String), VecDeque<Instant>>,
    last_sweep: Option<Instant>,
}

/// Failures within the window (dropping older ones).
fn recent<K: std::hash::Hash + Eq>(
    map: &mut HashMap<K, VecDeque<Instant>>,
    key: &K,
    now: Instant,
) -> usize {
    let Some(times) = map.get_mut(key) else {
        return 0;
    };
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) >= WINDOW)
    {
        times.pop_front();
    }
    times.len()
}

impl LoginLimiter {
    /// `per_minute` failures per address and per account.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute: usize::try_from(per_minute.max(1)).unwrap_or(usize::MAX),
            failures: Mutex::new(Failures::default()),
        }
    }

    /// May `ip` try to sign in to `account` (an email as typed) now?
    pub fn allowed(&self, ip: &str, account: &str) -> bool {
        let account = account.trim().to_lowercase();
        let now = Instant::now();
        let mut failures = self.lock();
        if recent(&mut failures.by_ip, &ip.to_string(), now) >= self.per_minute {
            return false;
        }
        let under_attack = recent(&mut failures.by_account, &account, now) >= self.per_minute;
        !under_attack
            || recent(
                &mut failures.by_ip_and_account,
                &(ip.to_string(), account),
                now,
            ) == 0
    }

    /// Records a failed sign-in of `ip` on `account`.
    pub fn failed(&self, ip: &str, account: &str) {
        let account = account.trim().to_lowercase();
        let now = Instant::now();
        let mut failures = self.lock();
        failures
            .by_ip
            .entry(ip.to_string())
            .or_default()
            .push_back(now);
        failures
            .by_account
            .entry(account.clone())
            .or_default()
            .push_back(now);
        failures
            .by_ip_and_account
            .entry((ip.to_string(), account))
            .or_default()
            .push_back(now);
        // Forget keys whose failures are all older than the window, once a minute.
        if failures
            .last_sweep
            .is_none_or(|t| now.duration_since(t) >= WINDOW)
        {
            let fresh = |times: &mut VecDeque<Instant>| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < WINDOW)
            };
            failures.by_ip.retain(|_, t| fresh(t));
            failures.by_account.retain(|_, t| fresh(t));
            failures.by_ip_and_account.retain(|_, t| fresh(t));
            failures.last_sweep = Some(now);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Failures> {
        self.failures.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Requests per client IP on the survey and opt-out links: enough for any person (and for
/// many behind one company proxy), too little to guess tokens.
pub struct IpLimiter(DefaultKeyedRateLimiter<String>);

impl IpLimiter {
    pub fn new(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        Self(RateLimiter::keyed(Quota::per_minute(n)))
    }

    /// Counts a request from `ip`; false when over the limit.
    pub fn allow(&self, ip: &str) -> bool {
        self.0.check_key(&ip.to_string()).is_ok()
    }

    /// Counts a request; `TooManyRequests` when its client is over the limit.
    pub fn check(
        &self,
        req: &actix_web::HttpRequest,
        trust_proxy: bool,
    ) -> Result<(), crate::error::AppError> {
        if self.allow(&client_ip(req, trust_proxy)) {
            Ok(())
        } else {
            Err(crate::error::AppError::TooManyRequests)
        }
    }
}

/// Request API calls per API key and minute. A key may use its whole minute's budget at
/// once (a purchasing system catching up), then waits its turn.
pub struct KeyLimiter(DefaultKeyedRateLimiter<String>);

impl KeyLimiter {
    pub fn new(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        Self(RateLimiter::keyed(Quota::per_minute(n)))
    }

    /// Counts a call with the key `key_id`: `Err(seconds)` to wait (at least 1) when the
    /// key is over its limit.
    pub fn check(&self, key_id: &str) -> Result<(), u64> {
        use governor::clock::Clock;
        match self.0.check_key(&key_id.to_string()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.0.clock().now());
                // Whole seconds, rounded up: a client waiting that long is let in.
                Err((wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1))
            }
        }
    }
}

/// The client's IP: the peer address, or — only when the operator says a trusted proxy
/// sits in front (`--trust-proxy`) — the first address of `X-Forwarded-For`/`Forwarded`.
pub fn client_ip(req: &actix_web::HttpRequest, trust_proxy: bool) -> String {
    let info = req.connection_info();
    let candidate = if trust_proxy {
        info.realip_remote_addr()
    } else {
        info.peer_addr()
    };
    match candidate {
        Some(addr) => match addr.parse::<std::net::SocketAddr>() {
            Ok(socket) => socket.ip().to_string(),
            Err(_) => addr.to_string(),
        },
        None => "unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::LoginLimiter;

    #[test]
    fn failures_slow_their_address_and_not_the_owner() {
        let limiter = LoginLimiter::new(3);
        for _ in 0..3 {
            assert!(limiter.allowed("10.0.0.1", "admin@example.com"));
            limiter.failed("10.0.0.1", "admin@example.com");
        }
        // The guessing address waits, for every account.
        assert!(!limiter.allowed("10.0.0.1", "admin@example.com"));
        assert!(!limiter.allowed("10.0.0.1", "other@example.com"));
        // The account is under attack, but the owner's address has not failed: allowed.
        assert!(limiter.allowed("192.168.1.7", "ADMIN@example.com"));
        // Many addresses, one failure each: each of them then waits on this account.
        for i in 0..5 {
            let ip = format!("172.16.0.{i}");
            assert!(limiter.allowed(&ip, "admin@example.com"));
            limiter.failed(&ip, "admin@example.com");
            assert!(!limiter.allowed(&ip, "admin@example.com"));
            assert!(limiter.allowed(&ip, "other@example.com"));
        }
        assert!(limiter.allowed("192.168.1.7", "admin@example.com"));
    }
}
