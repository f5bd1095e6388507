//! Envelope address syntax as `ehlo serve` judges it at MAIL and RCPT (RFC 5321 §4.1.2): the
//! addresses Postfix and Exim both refuse as malformed are refused here too, with the reason;
//! what either of them takes is taken (a test server must not pass a client a real MTA fails,
//! nor fail one it passes).
//!
//! Refused: an empty local part (`<@example.com>`, a source route with no mailbox after it),
//! an unquoted local part holding `@` or a blank, an empty domain (`<user@>`), a domain with an
//! empty label, a label over 63 octets (RFC 1035 §2.3.4) or starting or ending with `-`, or a
//! character outside letters, digits, `-` and `_` (non-ASCII letters pass: SMTPUTF8 is checked
//! apart), a domain over 255 octets (RFC 5321 §4.5.3.1.2), and an address literal that is not
//! an IPv4 address or `IPv6:` and an IPv6 address (RFC 5321 §4.1.3; no other tag is
//! registered). Taken as Postfix takes them: no domain at all (`<postmaster>`, Postfix adds its
//! own), one trailing dot, a local part over 64 octets and a path over 256 (RFC 5321 §4.5.3.1:
//! longer objects "SHOULD be avoided", not refused), dots anywhere in the local part.

/// Why `addr` (a MAIL or RCPT path without its brackets; not the null path) is not an address,
/// in a few words, or `None` when it is one.
pub(crate) fn problem(addr: &str) -> Option<String> {
    // RFC 5321 §4.1.2: Path = "<" [ A-d-l ":" ] Mailbox ">"; the source route is ignored
    // (§C) but must itself be at-domains.
    let mailbox = match addr.strip_prefix('@') {
        Some(_) => {
            let Some((route, mailbox)) = addr.split_once(':') else {
                return Some("empty local part".into());
            };
            for hop in route.split(',') {
                let domain = hop.strip_prefix('@').unwrap_or(hop);
                if let Some(why) = domain_problem(domain) {
                    return Some(format!("source route: {why}"));
                }
            }
            if mailbox.is_empty() {
                return Some("no mailbox after the source route".into());
            }
            mailbox
        }
        None => addr,
    };
    let Some((local, domain)) = split(mailbox) else {
        // No domain: Postfix appends its own (and RCPT TO:<Postmaster> is valid, §4.1.1.3).
        return local_problem(mailbox);
    };
    local_problem(local).or_else(|| domain_problem(domain))
}

/// The mailbox split at its `@` (the last one outside a quoted local part), or `None` without
/// one.
fn split(mailbox: &str) -> Option<(&str, &str)> {
    let at = mailbox.rfind('@')?;
    Some((&mailbox[..at], &mailbox[at + 1..]))
}

fn local_problem(local: &str) -> Option<String> {
    if local.is_empty() {
        return Some("empty local part".into());
    }
    // A Quoted-string may hold anything printable (RFC 5321 §4.1.2), control characters are
    // refused before this.
    if local.len() >= 2 && local.starts_with('"') && local.ends_with('"') {
        return None;
    }
    if local.contains('@') {
        return Some("an @ in the local part (quote it)".into());
    }
    if local.contains([' ', '\t']) {
        return Some("a blank in the local part (quote it)".into());
    }
    None
}

fn domain_problem(domain: &str) -> Option<String> {
    if domain.is_empty() {
        return Some("no domain after the @".into());
    }
    if let Some(literal) = domain.strip_prefix('[') {
        let Some(inner) = literal.strip_suffix(']') else {
            return Some(format!("the address literal [{literal} has no ']'"));
        };
        let ok = match inner.get(..5) {
            Some(tag) if tag.eq_ignore_ascii_case("IPv6:") => {
                inner[5..].parse::<core::net::Ipv6Addr>().is_ok()
            }
            _ => inner.parse::<core::net::Ipv4Addr>().is_ok(),
        };
        return (!ok).then(|| {
            format!("[{inner}] is not an address literal ([1.2.3.4] or [IPv6:2001:db8::1])")
        });
    }
    // One trailing dot (the root) is taken, as Postfix takes it.
    let name = domain.strip_suffix('.').unwrap_or(domain);
    if name.len() > 255 {
        return Some(format!(
            "a domain of {} octets, more than 255 (RFC 5321 §4.5.3.1.2)",
            name.len()
        ));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Some(format!("an empty label in the domain {domain}"));
        }
        if label.len() > 63 {
            return Some(format!(
                "a domain label of {} octets, more than 63 (RFC 1035 §2.3.4)",
                label.len()
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some(format!("the domain label {label} starts or ends with '-'"));
        }
        if let Some(c) = label
            .chars()
            .find(|&c| c.is_ascii() && !c.is_ascii_alphanumeric() && c != '-' && c != '_')
        {
            return Some(format!("'{c}' in the domain {domain}"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::problem;

    /// Each case as Postfix 3.7 (501 5.1.3/5.1.7 or not) and Exim 4.96 answered it at RCPT/MAIL:
    /// refused here only where both refused it.
    #[test]
    fn addresses_postfix_and_exim_both_refuse_are_refused_and_the_rest_taken() {
        let long_label = "y".repeat(64);
        let domain_256 = format!("a@{}test", format!("{}.", "y".repeat(62)).repeat(4));
        for refused in [
            "bad@",
            "@b.test",
            "@r.test:",
            "@:a@b.test",
            "a@b@c.test",
            "a b@b.test",
            "a@x..b.test",
            "a@.b.test",
            "a@-x.b.test",
            "a@x-.b.test",
            "a@b!c.test",
            "a@[1.2.3]",
            "a@[1.2.3.300]",
            "a@[IPv6:zz]",
            "a@[x-tag:abc]",
            "a@[1.2.3.4",
            &format!("a@{long_label}.test"),
            &domain_256,
        ] {
            assert!(problem(refused).is_some(), "{refused} taken");
        }
        for taken in [
            "a@b.test",
            "postmaster",
            "nodomain",
            "a@b.test.",
            "a@b_c.test",
            ".a@b.test",
            "a..b@b.test",
            "\"a b\"@b.test",
            "\"a@b\"@c.test",
            "@r1.test,@r2.test:a@b.test",
            "a@[1.2.3.4]",
            "a@[IPv6:::1]",
            "a@[ipv6:2001:db8::1]",
            "δοκιμή@παράδειγμα.δοκιμή",
            &format!("{}@b.test", "x".repeat(65)),
            &format!("{}@b.test", "x".repeat(290)),
        ] {
            assert_eq!(problem(taken), None, "{taken}");
        }
    }
}
