//! What kind of network an IP address belongs to, for the SSRF guard of the crate's own
//! fetches: public, loopback, private, or something no fetch should ever reach.
//!
//! IPv6 addresses that carry an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, the deprecated
//! IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by the
//! IPv4 address they carry, since that is where a connection to them ends up.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The kind of network an address belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AddressClass {
    /// Reachable on the internet: the only class a fetch reaches by default.
    Public,
    /// This host: `127.0.0.0/8`, `::1`.
    Loopback,
    /// A private network: `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`, the shared
    /// address space of carrier-grade NAT `100.64.0.0/10`, unique local `fc00::/7`, the
    /// deprecated site-local `fec0::/10`, local-use NAT64 `64:ff9b:1::/48`.
    Private,
    /// A cloud provider's instance metadata or platform endpoint, which hands out
    /// credentials to whoever asks from inside the instance.
    Metadata,
    /// Link-local: `169.254.0.0/16`, `fe80::/10`.
    LinkLocal,
    /// Not a destination: `0.0.0.0/8`, `::`.
    Unspecified,
    /// Multicast (`224.0.0.0/4`, `ff00::/8`) or the limited broadcast `255.255.255.255`.
    Multicast,
    /// Reserved, documentation, benchmarking or otherwise special-purpose ranges that no
    /// authorization server lives in.
    Reserved,
}

impl fmt::Display for AddressClass {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            AddressClass::Public => "public",
            AddressClass::Loopback => "loopback",
            AddressClass::Private => "private",
            AddressClass::Metadata => "a cloud metadata endpoint",
            AddressClass::LinkLocal => "link-local",
            AddressClass::Unspecified => "unspecified",
            AddressClass::Multicast => "multicast or broadcast",
            AddressClass::Reserved => "reserved for special use",
        })
    }
}

/// The class of `address`.
pub(crate) fn classify(address: IpAddr) -> AddressClass {
    match address {
        IpAddr::V4(address) => classify_v4(address),
        IpAddr::V6(address) => classify_v6(address),
    }
}

/// The IPv4 addresses of cloud metadata and platform endpoints. Most sit in link-local
/// space and would be refused anyway; they are named so that the refusal says what they
/// are, and so that an opt-in for private addresses never lets through the ones outside it.
const METADATA_V4: [Ipv4Addr; 6] = [
    // AWS, Azure, GCP, DigitalOcean, OpenStack and most others.
    Ipv4Addr::new(169, 254, 169, 254),
    // AWS ECS task metadata and credentials.
    Ipv4Addr::new(169, 254, 170, 2),
    // AWS EKS Pod Identity agent.
    Ipv4Addr::new(169, 254, 170, 23),
    // Alibaba Cloud, inside the carrier-grade NAT range.
    Ipv4Addr::new(100, 100, 100, 200),
    // Azure's platform endpoint (WireServer), a public address reachable only from Azure.
    Ipv4Addr::new(168, 63, 129, 16),
    // Oracle Cloud's older metadata address, inside the IETF protocol assignments range.
    Ipv4Addr::new(192, 0, 0, 192),
];

/// The IPv6 addresses of cloud metadata endpoints, inside unique local space.
const METADATA_V6: [Ipv6Addr; 2] = [
    // AWS instance metadata over IPv6.
    Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254),
    // AWS EKS Pod Identity agent over IPv6.
    Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0023),
];

/// Whether `address` is in `network/prefix`.
fn in_v4(address: Ipv4Addr, network: [u8; 4], prefix: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    u32::from(address) & mask == u32::from(Ipv4Addr::from(network)) & mask
}

/// Whether `address` is in `network/prefix`.
fn in_v6(address: Ipv6Addr, network: [u16; 8], prefix: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
    u128::from(address) & mask == u128::from(Ipv6Addr::from(network)) & mask
}

fn classify_v4(address: Ipv4Addr) -> AddressClass {
    if METADATA_V4.contains(&address) {
        return AddressClass::Metadata;
    }
    let octets = address.octets();
    if address == Ipv4Addr::BROADCAST {
        return AddressClass::Multicast;
    }
    match octets[0] {
        // "This network" (RFC 791): connecting to 0.0.0.0 reaches the local host on
        // common systems.
        0 => return AddressClass::Unspecified,
        10 => return AddressClass::Private,
        127 => return AddressClass::Loopback,
        224..=239 => return AddressClass::Multicast,
        // Reserved for future use (RFC 1112).
        240..=255 => return AddressClass::Reserved,
        _ => {}
    }
    const PRIVATE: [([u8; 4], u32); 3] = [
        ([100, 64, 0, 0], 10),
        ([172, 16, 0, 0], 12),
        ([192, 168, 0, 0], 16),
    ];
    const RESERVED: [([u8; 4], u32); 6] = [
        // IETF protocol assignments (RFC 6890).
        ([192, 0, 0, 0], 24),
        // Documentation (RFC 5737).
        ([192, 0, 2, 0], 24),
        ([198, 51, 100, 0], 24),
        ([203, 0, 113, 0], 24),
        // The deprecated 6to4 relay anycast (RFC 7526).
        ([192, 88, 99, 0], 24),
        // Benchmarking (RFC 2544).
        ([198, 18, 0, 0], 15),
    ];
    if in_v4(address, [169, 254, 0, 0], 16) {
        AddressClass::LinkLocal
    } else if PRIVATE
        .iter()
        .any(|(network, prefix)| in_v4(address, *network, *prefix))
    {
        AddressClass::Private
    } else if RESERVED
        .iter()
        .any(|(network, prefix)| in_v4(address, *network, *prefix))
    {
        AddressClass::Reserved
    } else {
        AddressClass::Public
    }
}

fn classify_v6(address: Ipv6Addr) -> AddressClass {
    if address.is_unspecified() {
        return AddressClass::Unspecified;
    }
    if address.is_loopback() {
        return AddressClass::Loopback;
    }
    if METADATA_V6.contains(&address) {
        return AddressClass::Metadata;
    }
    if let Some(embedded) = embedded_v4(address) {
        return classify_v4(embedded);
    }
    let segments = address.segments();
    // Checked before their covering ranges below.
    const RESERVED: [([u16; 8], u32); 4] = [
        // The discard prefix (RFC 6666).
        ([0x0100, 0, 0, 0, 0, 0, 0, 0], 64),
        // IETF protocol assignments (RFC 2928), which hold Teredo (whose client address
        // is obscured), benchmarking and ORCHID.
        ([0x2001, 0, 0, 0, 0, 0, 0, 0], 23),
        // Documentation (RFC 3849, RFC 9637).
        ([0x2001, 0x0db8, 0, 0, 0, 0, 0, 0], 32),
        ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20),
    ];
    if in_v6(address, [0x0064, 0xff9b, 1, 0, 0, 0, 0, 0], 48) {
        // Local-use NAT64 (RFC 8215): where the IPv4 address sits is up to the network.
        AddressClass::Private
    } else if RESERVED
        .iter()
        .any(|(network, prefix)| in_v6(address, *network, *prefix))
    {
        AddressClass::Reserved
    } else if segments[0] & 0xff00 == 0xff00 {
        AddressClass::Multicast
    } else if segments[0] & 0xffc0 == 0xfe80 {
        AddressClass::LinkLocal
    } else if segments[0] & 0xfe00 == 0xfc00 || segments[0] & 0xffc0 == 0xfec0 {
        AddressClass::Private
    } else if segments[0] & 0xe000 == 0x2000 {
        // Global unicast is `2000::/3` (RFC 4291).
        AddressClass::Public
    } else {
        // Everything else is unassigned or special: SRv6 segment identifiers
        // (`5f00::/16`, RFC 9602) among them.
        AddressClass::Reserved
    }
}

/// The IPv4 address an IPv6 address carries: IPv4-mapped (`::ffff:0:0/96`),
/// IPv4-compatible (`::/96`, deprecated), NAT64 (`64:ff9b::/96`, RFC 6052) or 6to4
/// (`2002::/16`, RFC 3056).
fn embedded_v4(address: Ipv6Addr) -> Option<Ipv4Addr> {
    let octets = address.octets();
    if let Some(mapped) = address.to_ipv4_mapped() {
        return Some(mapped);
    }
    if in_v6(address, [0; 8], 96) || in_v6(address, [0x0064, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
        return Some(Ipv4Addr::new(
            octets[12], octets[13], octets[14], octets[15],
        ));
    }
    if address.segments()[0] == 0x2002 {
        return Some(Ipv4Addr::new(octets[2], octets[3], octets[4], octets[5]));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(text: &str) -> AddressClass {
        classify(text.parse().unwrap())
    }

    #[test]
    fn each_range_has_its_class() {
        let table = [
            ("1.1.1.1", AddressClass::Public),
            ("8.8.8.8", AddressClass::Public),
            ("172.15.255.255", AddressClass::Public),
            ("172.32.0.0", AddressClass::Public),
            ("100.63.255.255", AddressClass::Public),
            ("100.128.0.0", AddressClass::Public),
            ("169.253.255.255", AddressClass::Public),
            ("127.0.0.1", AddressClass::Loopback),
            ("127.255.255.254", AddressClass::Loopback),
            ("10.0.0.1", AddressClass::Private),
            ("10.255.255.255", AddressClass::Private),
            ("172.16.0.1", AddressClass::Private),
            ("172.31.255.255", AddressClass::Private),
            ("192.168.1.1", AddressClass::Private),
            ("100.64.0.1", AddressClass::Private),
            ("100.127.255.255", AddressClass::Private),
            ("169.254.169.254", AddressClass::Metadata),
            ("169.254.170.2", AddressClass::Metadata),
            ("100.100.100.200", AddressClass::Metadata),
            ("168.63.129.16", AddressClass::Metadata),
            ("192.0.0.192", AddressClass::Metadata),
            ("169.254.0.1", AddressClass::LinkLocal),
            ("0.0.0.0", AddressClass::Unspecified),
            ("0.1.2.3", AddressClass::Unspecified),
            ("224.0.0.1", AddressClass::Multicast),
            ("239.255.255.250", AddressClass::Multicast),
            ("255.255.255.255", AddressClass::Multicast),
            ("240.0.0.1", AddressClass::Reserved),
            ("192.0.2.1", AddressClass::Reserved),
            ("198.51.100.7", AddressClass::Reserved),
            ("203.0.113.9", AddressClass::Reserved),
            ("198.18.0.1", AddressClass::Reserved),
            ("198.19.255.255", AddressClass::Reserved),
            ("192.0.0.8", AddressClass::Reserved),
            ("192.88.99.1", AddressClass::Reserved),
            ("2606:4700:4700::1111", AddressClass::Public),
            ("2a00:1450:4001::200e", AddressClass::Public),
            ("::1", AddressClass::Loopback),
            ("::", AddressClass::Unspecified),
            ("fc00::1", AddressClass::Private),
            ("fdff:ffff::1", AddressClass::Private),
            ("fec0::1", AddressClass::Private),
            ("64:ff9b:1::a00:1", AddressClass::Private),
            ("fd00:ec2::254", AddressClass::Metadata),
            ("fd00:ec2::23", AddressClass::Metadata),
            ("fe80::1", AddressClass::LinkLocal),
            ("febf::1", AddressClass::LinkLocal),
            ("ff02::1", AddressClass::Multicast),
            ("2001:db8::1", AddressClass::Reserved),
            ("3fff::1", AddressClass::Reserved),
            ("2001::1", AddressClass::Reserved),
            ("2001:2::1", AddressClass::Reserved),
            ("100::1", AddressClass::Reserved),
            ("5f00::1", AddressClass::Reserved),
            ("4000::1", AddressClass::Reserved),
        ];
        for (address, expected) in table {
            assert_eq!(class(address), expected, "{address}");
        }
    }

    #[test]
    fn ipv6_forms_of_an_ipv4_address_are_judged_by_it() {
        let table = [
            // IPv4-mapped.
            ("::ffff:10.0.0.1", AddressClass::Private),
            ("::ffff:127.0.0.1", AddressClass::Loopback),
            ("::ffff:a9fe:a9fe", AddressClass::Metadata),
            ("::ffff:0.0.0.0", AddressClass::Unspecified),
            ("::ffff:1.1.1.1", AddressClass::Public),
            // IPv4-compatible (deprecated).
            ("::10.0.0.1", AddressClass::Private),
            ("::127.0.0.2", AddressClass::Loopback),
            ("::169.254.169.254", AddressClass::Metadata),
            // NAT64.
            ("64:ff9b::10.0.0.1", AddressClass::Private),
            ("64:ff9b::127.0.0.1", AddressClass::Loopback),
            ("64:ff9b::a9fe:a9fe", AddressClass::Metadata),
            ("64:ff9b::1.1.1.1", AddressClass::Public),
            // 6to4.
            ("2002:0a00:0001::1", AddressClass::Private),
            ("2002:7f00:0001::", AddressClass::Loopback),
            ("2002:a9fe:a9fe::1", AddressClass::Metadata),
            ("2002:0101:0101::1", AddressClass::Public),
        ];
        for (address, expected) in table {
            assert_eq!(class(address), expected, "{address}");
        }
    }

    #[test]
    fn classes_read_as_reasons() {
        assert_eq!(
            AddressClass::Metadata.to_string(),
            "a cloud metadata endpoint"
        );
        assert_eq!(AddressClass::Private.to_string(), "private");
    }
}
