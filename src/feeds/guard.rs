//! Address guard: keeps subscriber-supplied feed URLs from reaching the
//! server's own network (SSRF).
//!
//! Checks happen in two places because neither alone is enough: IP-literal
//! hosts never reach a DNS resolver, so [`check_url`] inspects them directly
//! (on the first request and on every redirect hop); host names are checked
//! by [`GuardedResolver`] at connect time, so the addresses that are checked
//! are exactly the ones connected to and DNS rebinding gains nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use super::FetchError;

// The policy is settings (config.rs); what it permits is decided here, beside the checks.
pub use crate::config::AddressPolicy;

impl AddressPolicy {
    pub fn permits(&self, ip: IpAddr) -> bool {
        if self.allow_private || is_public_ip(ip) {
            return true;
        }
        // An IPv4 range also opens that range's IPv6 spellings (::ffff:a.b.c.d...).
        let v4 = match ip {
            IpAddr::V6(v6) => embedded_v4(v6).map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        self.allowed
            .iter()
            .any(|net| net.contains(&ip) || v4.is_some_and(|v4| net.contains(&v4)))
    }
}

/// Whether `ip` is an ordinary address on the public internet.
///
/// IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4)
/// are judged by that IPv4 address, since that is where traffic ends up.
pub fn is_public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = a == 0 // "this network", 0/8
        || a == 10 // private
        || a == 127 // loopback
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 169 && b == 254) // link-local
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 168) // private
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18/15
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || (224..240).contains(&a) // multicast
        || a >= 240; // reserved 240/4, includes broadcast
    !refused
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    if let Some((server, client)) = teredo(ip) {
        return is_public_v4(server) && is_public_v4(client);
    }
    let s = ip.segments();
    let refused = ip.is_unspecified()
        || ip.is_loopback()
        || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // deprecated site-local fec0::/10
        || (s[0] & 0xff00) == 0xff00 // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x2001 && s[1] == 0x0002 && s[2] == 0) // benchmarking 2001:2::/48
        || (s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0) // discard-only 100::/64
        || (s[0] == 0x0064 && s[1] == 0xff9b && s[2] == 0x0001); // local-use NAT64 64:ff9b:1::/48
    !refused
}

/// The IPv4 address an IPv6 address forwards to, if it is one of the
/// transition forms that embed one.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let o = ip.octets();
    let low32 = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    let top80_zero = s[..5].iter().all(|&x| x == 0);
    if top80_zero && s[5] == 0xffff {
        return Some(low32); // IPv4-mapped ::ffff:0:0/96
    }
    if top80_zero && s[5] == 0 {
        return Some(low32); // IPv4-compatible ::/96 (also covers :: and ::1)
    }
    if s[0] == 0x0064 && s[1] == 0xff9b && s[2..6].iter().all(|&x| x == 0) {
        return Some(low32); // NAT64 64:ff9b::/96
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(o[2], o[3], o[4], o[5])); // 6to4 2002::/16
    }
    None
}

/// The server and client IPv4 addresses of a Teredo address (2001::/32); the client's
/// is stored inverted (RFC 4380), so it is flipped back before it is judged.
fn teredo(ip: Ipv6Addr) -> Option<(Ipv4Addr, Ipv4Addr)> {
    let s = ip.segments();
    if s[0] != 0x2001 || s[1] != 0 {
        return None;
    }
    let o = ip.octets();
    let server = Ipv4Addr::new(o[4], o[5], o[6], o[7]);
    let client = Ipv4Addr::new(!o[12], !o[13], !o[14], !o[15]);
    Some((server, client))
}

/// Refuses URLs a feed fetch must never touch: non-HTTP schemes, and hosts
/// that are (or name) non-public addresses.
///
/// Host names other than `localhost` are only checked for shape here; their
/// addresses are checked by [`GuardedResolver`] when the connection is made.
/// With `allow_private` (development and tests) only the scheme is checked.
pub fn check_url(url: &Url, policy: &AddressPolicy) -> Result<(), FetchError> {
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(FetchError::Refused(format!(
                "only http and https feed URLs are supported, not {other}:"
            )))
        }
    }
    let host = url
        .host()
        .ok_or_else(|| FetchError::InvalidUrl(format!("{url} has no host name")))?;
    if policy.allow_private {
        return Ok(());
    }
    match host {
        Host::Ipv4(ip) => check_ip(IpAddr::V4(ip), policy),
        Host::Ipv6(ip) => check_ip(IpAddr::V6(ip), policy),
        Host::Domain(name) => check_host_name(name, policy),
    }
}

fn check_ip(ip: IpAddr, policy: &AddressPolicy) -> Result<(), FetchError> {
    if policy.permits(ip) {
        Ok(())
    } else {
        Err(FetchError::Refused(format!("{ip} is not a public address")))
    }
}

fn check_host_name(name: &str, policy: &AddressPolicy) -> Result<(), FetchError> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() {
        return Err(FetchError::InvalidUrl("the host name is empty".into()));
    }
    // A trailing dot can stop the url crate from recognising an IP literal.
    if let Ok(ip) = name.parse::<IpAddr>() {
        return check_ip(ip, policy);
    }
    if name == "localhost" || name.ends_with(".localhost") {
        return Err(FetchError::Refused(format!(
            "{name} is not a public address"
        )));
    }
    Ok(())
}

/// Resolves `host` and keeps only public addresses, so a name pointing at
/// an internal service is refused instead of connected to.
pub async fn resolve_public(
    host: &str,
    policy: &AddressPolicy,
) -> Result<Vec<SocketAddr>, FetchError> {
    let shown = host.trim_end_matches('.');
    check_host_name(host, policy)?;
    let addrs = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|e| FetchError::Dns(format!("could not resolve {shown}: {e}")))?;
    keep_public(shown, addrs, policy)
}

/// Filters resolved addresses down to public ones; split out so the
/// filtering is testable without a DNS server.
fn keep_public(
    host: &str,
    addrs: impl Iterator<Item = SocketAddr>,
    policy: &AddressPolicy,
) -> Result<Vec<SocketAddr>, FetchError> {
    let mut seen_any = false;
    let public: Vec<SocketAddr> = addrs
        .inspect(|_| seen_any = true)
        .filter(|a| policy.permits(a.ip()))
        .collect();
    if public.is_empty() {
        return Err(if seen_any {
            FetchError::Refused(format!("{host} resolves only to non-public addresses"))
        } else {
            FetchError::Dns(format!("could not resolve {host}: no addresses"))
        });
    }
    Ok(public)
}

/// An HTTP client builder for addresses people give us (feeds, webhook receivers, a PDS,
/// a Mastodon instance): rustls, no proxy (it would connect for us, past the guard), no
/// redirects (the answer could point anywhere; callers follow them by hand where they
/// must), no referer, and names resolved through [`GuardedResolver`] unless private
/// networks are open as a whole. Callers add their timeouts and headers.
pub fn guarded_client(policy: &AddressPolicy) -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder()
        .use_rustls_tls()
        .no_proxy()
        .referer(false)
        .redirect(reqwest::redirect::Policy::none());
    match policy.allow_private {
        true => builder,
        false => builder.dns_resolver(Arc::new(GuardedResolver {
            policy: Arc::new(policy.clone()),
        })),
    }
}

/// reqwest resolver that only ever hands out addresses the policy permits.
#[derive(Debug, Clone, Default)]
pub struct GuardedResolver {
    pub policy: Arc<AddressPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let policy = self.policy.clone();
        Box::pin(async move {
            let addrs = resolve_public(&host, &policy).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn none() -> AddressPolicy {
        AddressPolicy::default()
    }

    fn only(nets: &[&str]) -> AddressPolicy {
        AddressPolicy {
            allow_private: false,
            allowed: nets.iter().map(|n| n.parse().unwrap()).collect(),
        }
    }

    #[test]
    fn teredo_addresses_are_judged_by_their_embedded_ipv4_addresses() {
        // Server 65.54.227.120, client 127.0.0.1 (stored inverted: 80ff:fffe).
        assert!(!is_public_ip(ip("2001:0:4136:e378:8000:63bf:80ff:fffe")));
        // Server 10.0.0.1 is private.
        assert!(!is_public_ip(ip("2001:0:a00:1:8000:63bf:f7f7:f7f7")));
        // Both public (client 8.8.8.8 stored as f7f7:f7f7).
        assert!(is_public_ip(ip("2001:0:4136:e378:8000:63bf:f7f7:f7f7")));
    }

    #[test]
    fn the_allow_list_opens_exactly_the_ranges_it_names() {
        let policy = only(&["10.1.0.0/16", "fd00:1::/32"]);
        for s in ["10.1.0.1", "10.1.255.255", "::ffff:10.1.2.3", "fd00:1::5"] {
            assert!(policy.permits(ip(s)), "{s} is in the list");
        }
        for s in ["10.2.0.1", "127.0.0.1", "192.168.1.1", "fd00:2::5", "::1"] {
            assert!(!policy.permits(ip(s)), "{s} is not in the list");
        }
        assert!(policy.permits(ip("8.8.8.8")), "public addresses stay open");
        let url = Url::parse("http://10.1.2.3/feed").unwrap();
        assert!(check_url(&url, &policy).is_ok());
        let url = Url::parse("http://10.2.0.1/feed").unwrap();
        assert!(check_url(&url, &policy).is_err());
    }

    #[test]
    fn refuses_non_public_ipv4_ranges() {
        for s in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.1.2.3",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!is_public_ip(ip(s)), "{s} should be refused");
        }
    }

    #[test]
    fn allows_public_ipv4_including_range_neighbours() {
        for s in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "192.0.1.1",
            "192.169.0.1",
            "198.17.255.255",
            "198.20.0.1",
            "223.255.255.255",
        ] {
            assert!(is_public_ip(ip(s)), "{s} should be allowed");
        }
    }

    #[test]
    fn refuses_non_public_ipv6_ranges() {
        for s in [
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "2001:2::1",
            "100::1",
            "64:ff9b:1::1",
        ] {
            assert!(!is_public_ip(ip(s)), "{s} should be refused");
        }
    }

    #[test]
    fn judges_embedded_ipv4_by_the_ipv4_address() {
        for s in [
            "::ffff:127.0.0.1",
            "::ffff:7f00:1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "::192.168.0.1",
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::1",
            "2002:c0a8:101::",
        ] {
            assert!(!is_public_ip(ip(s)), "{s} should be refused");
        }
        for s in [
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
        ] {
            assert!(is_public_ip(ip(s)), "{s} should be allowed");
        }
    }

    fn check(s: &str) -> Result<(), FetchError> {
        check_url(&Url::parse(s).unwrap(), &AddressPolicy::default())
    }

    #[test]
    fn refuses_every_spelling_of_loopback() {
        for s in [
            "http://127.0.0.1/feed",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://127.0.0.1./",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://localhost/",
            "http://LOCALHOST./",
            "http://blog.localhost/",
            "https://0.0.0.0:8443/",
            "http://[fe80::1]/",
            "http://169.254.169.254/latest/meta-data/",
        ] {
            let err = check(s).expect_err(s);
            assert!(matches!(err, FetchError::Refused(_)), "{s}: {err}");
        }
    }

    #[test]
    fn message_names_the_address() {
        let err = check("http://2130706433/").unwrap_err();
        assert_eq!(
            err.to_string(),
            "refused: 127.0.0.1 is not a public address"
        );
    }

    #[test]
    fn refuses_other_schemes_even_when_private_allowed() {
        for s in [
            "ftp://example.com/feed",
            "file:///etc/passwd",
            "gopher://x/",
        ] {
            let err = check_url(&Url::parse(s).unwrap(), &AddressPolicy::open()).expect_err(s);
            assert!(err.to_string().contains("only http and https"), "{err}");
        }
    }

    #[test]
    fn allows_public_hosts_and_private_when_configured() {
        assert!(check("https://example.com/feed.xml").is_ok());
        assert!(check("http://8.8.8.8/").is_ok());
        assert!(check("http://[2606:4700:4700::1111]/").is_ok());
        let local = Url::parse("http://127.0.0.1:8080/feed").unwrap();
        assert!(check_url(&local, &AddressPolicy::open()).is_ok());
        let localhost = Url::parse("http://localhost:8080/feed").unwrap();
        assert!(check_url(&localhost, &AddressPolicy::open()).is_ok());
    }

    #[test]
    fn resolver_drops_non_public_addresses() {
        let sa = |s: &str| SocketAddr::new(ip(s), 0);
        let err = keep_public(
            "feed.example",
            [sa("127.0.0.1"), sa("::1")].into_iter(),
            &none(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "refused: feed.example resolves only to non-public addresses"
        );
        let kept = keep_public(
            "feed.example",
            [sa("10.0.0.1"), sa("93.184.216.34"), sa("fd00::1")].into_iter(),
            &none(),
        )
        .unwrap();
        assert_eq!(kept, vec![sa("93.184.216.34")]);
    }

    #[tokio::test]
    async fn resolver_refuses_localhost_by_name() {
        let err = resolve_public("localhost.", &none()).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "refused: localhost is not a public address"
        );
    }

    #[tokio::test]
    async fn resolver_refuses_ip_literals_that_are_private() {
        let err = resolve_public("10.1.2.3", &none()).await.unwrap_err();
        assert!(matches!(err, FetchError::Refused(_)), "{err}");
        let ok = resolve_public("8.8.8.8", &none()).await.unwrap();
        assert_eq!(ok[0].ip(), ip("8.8.8.8"));
    }
}
