//! Sign-in rate limits, per client IP and per account, in memory (governor's GCRA).
//! Each `pulse serve` instance counts on its own; behind a load balancer with N instances
//! an attacker gets at most N times the budget, still far too little to guess passwords.

use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

pub struct LoginLimiter {
    per_ip: DefaultKeyedRateLimiter<String>,
    per_account: DefaultKeyedRateLimiter<String>,
}

impl LoginLimiter {
    /// `per_minute` attempts per IP and per account, with that many allowed in a burst.
    pub fn new(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        Self {
            per_ip: RateLimiter::keyed(Quota::per_minute(n)),
            per_account: RateLimiter::keyed(Quota::per_minute(n)),
        }
    }

    /// Counts an attempt from `ip`; false when over the limit.
    pub fn allow_ip(&self, ip: &str) -> bool {
        self.per_ip.check_key(&ip.to_string()).is_ok()
    }

    /// Counts an attempt on `account` (normalised email); false when over the limit.
    pub fn allow_account(&self, account: &str) -> bool {
        self.per_account.check_key(&account.to_lowercase()).is_ok()
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
