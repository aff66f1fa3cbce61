//! Who is asking, for the limits that count per client.

use actix_web::HttpRequest;

/// The client's address: the peer, not X-Forwarded-For, since a header anyone can write
/// would make every per-client limit moot. Behind a proxy every visitor shares the
/// proxy's allowance, which errs on the safe side.
pub fn address(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default()
}
