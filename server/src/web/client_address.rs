//! The address a request came from, for the per-address login limit.
//!
//! Behind a reverse proxy the TCP peer is the proxy, so every client would
//! share one budget of attempts (and one attacker could spend it for all).
//! Only for a peer named in `trusted_proxies` is `X-Forwarded-For` read,
//! and then from the right: each trusted proxy appends the address it saw,
//! so the rightmost address that is not a trusted proxy is the client.
//! Anything a client wrote itself sits further left and is never used.

use std::net::IpAddr;

use axum::http::HeaderMap;

/// The client's address: the TCP peer, unless the peer is a trusted proxy
/// that says who it forwarded for.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    // Several headers count as one list, in order.
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        match parse(hop) {
            Some(address) if trusted.contains(&address) => continue,
            Some(address) => return address,
            // Garbage where the proxy should have written an address: the
            // chain cannot be trusted past here, so count the proxy.
            None => return peer,
        }
    }
    peer
}

/// An address as proxies write it: bare, or IPv6 in brackets (a port, if
/// any, is dropped).
fn parse(hop: &str) -> Option<IpAddr> {
    if let Ok(address) = hop.parse() {
        return Some(address);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    let (host, port) = hop.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let claimed = headers(&["203.0.113.9"]);
        assert_eq!(client_address(ip("198.51.100.7"), &claimed, &[]), ip("198.51.100.7"));
        assert_eq!(client_address(ip("198.51.100.7"), &claimed, &[ip("10.0.0.2")]), ip("198.51.100.7"));
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let proxies = [ip("10.0.0.2"), ip("10.0.0.3")];
        // The client forged a first hop; the proxy appended what it saw.
        let forged = headers(&["203.0.113.9, 198.51.100.7"]);
        assert_eq!(client_address(ip("10.0.0.2"), &forged, &proxies), ip("198.51.100.7"));
        // Two proxies in a row, the list split over two headers.
        let chained = headers(&["198.51.100.7", "10.0.0.3"]);
        assert_eq!(client_address(ip("10.0.0.2"), &chained, &proxies), ip("198.51.100.7"));
        // IPv6 in brackets with a port, and with a plain port.
        let v6 = headers(&["[2001:db8::1]:4711"]);
        assert_eq!(client_address(ip("10.0.0.2"), &v6, &proxies), ip("2001:db8::1"));
        let v4 = headers(&["198.51.100.7:4711"]);
        assert_eq!(client_address(ip("10.0.0.2"), &v4, &proxies), ip("198.51.100.7"));
    }

    #[test]
    fn a_missing_or_garbled_header_counts_the_proxy() {
        let proxy = ip("10.0.0.2");
        assert_eq!(client_address(proxy, &HeaderMap::new(), &[proxy]), proxy);
        assert_eq!(client_address(proxy, &headers(&["198.51.100.7, not-an-address"]), &[proxy]), proxy);
        assert_eq!(client_address(proxy, &headers(&["10.0.0.2"]), &[proxy]), proxy);
    }
}
