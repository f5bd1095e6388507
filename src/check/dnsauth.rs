//! The parts of `spf.record` and `dmarc.record` that follow DNS beyond the domain's own TXT
//! record: SPF's DNS-lookup limit counted across `include:` and `redirect=` (RFC 7208 §4.6.4),
//! the policy (`all`) a `redirect=` leads to (RFC 7208 §6.1), an `include:` of a record that
//! passes every sender (RFC 7208 §5.2: its pass is the including record's match), syntax errors
//! in the records reached (§4.6.1),
//! and DMARC's fallback to a parent domain's record when the domain has none (RFC 7489 §6.6.3).
//! ehlo ships no public-suffix list, so the organisational domain is found by walking up the
//! tree, nearest parent first, as DMARCbis (draft-ietf-dmarc-dmarcbis §4.10) does.

use std::collections::HashMap;

use hickory_resolver::proto::rr::RecordType;
use serde_json::json;

use super::model::{CheckResult, Status};
use super::records;
use crate::net::dns::Resolver;

/// RFC 7208 §4.6.4: at most 10 mechanisms and modifiers that cause DNS queries per evaluation.
pub(crate) const SPF_LOOKUP_LIMIT: usize = 10;

/// Records followed at most (loops and deep chains stop here; the limit is long exceeded).
const MAX_FOLLOWED: usize = 20;

/// One SPF record's DNS-querying terms (`include`, `a`, `mx`, `ptr`, `exists`, and `redirect`
/// unless an `all` makes it ignored, RFC 7208 §6.1) and the domains to follow (`include:` and
/// `redirect=` targets without macros, which cannot be expanded without a sender).
pub(crate) fn spf_terms(record: &str) -> (usize, Vec<String>) {
    let mut lookups = 0;
    let mut follow = Vec::new();
    let mut redirect = None;
    let mut all = false;
    for term in record.split_whitespace().skip(1) {
        let t = term.to_ascii_lowercase();
        let mech = t.trim_start_matches(['+', '-', '~', '?']);
        let name = mech.split([':', '/', '=']).next().unwrap_or("");
        match name {
            "include" => {
                lookups += 1;
                if let Some(d) = mech.strip_prefix("include:") {
                    follow.push(d.to_string());
                }
            }
            "a" | "mx" | "ptr" | "exists" => lookups += 1,
            "redirect" => redirect = mech.strip_prefix("redirect=").map(str::to_string),
            "all" => all = true,
            _ => {}
        }
    }
    if let Some(d) = redirect.filter(|_| !all) {
        lookups += 1;
        follow.push(d);
    }
    follow.retain(|d| !d.is_empty() && !d.contains('%'));
    (lookups, follow)
}

/// The `include:` targets whose match passes the sender (qualifier `+` or none), up to the
/// record's `all`: terms after it are never evaluated (RFC 7208 §5.1). Macro targets are left out
/// (expanded per sender).
fn passing_includes(record: &str) -> Vec<String> {
    let mut out = Vec::new();
    for term in record.split_whitespace().skip(1) {
        let t = term.to_ascii_lowercase();
        let (q, mech) = records::spf_qualified(&t);
        if mech == "all" {
            break;
        }
        if let Some(d) = mech.strip_prefix("include:").filter(|_| q == '+')
            && !d.is_empty()
            && !d.contains('%')
        {
            out.push(d.trim_end_matches('.').to_string());
        }
    }
    out
}

/// The `v=spf1` records among `strings` (RFC 7208 §4.5: the version tag is case-insensitive).
fn spf_records(strings: &[String]) -> Vec<&String> {
    strings
        .iter()
        .filter(|r| {
            let l = r.trim_start().to_ascii_lowercase();
            l == "v=spf1" || l.starts_with("v=spf1 ")
        })
        .collect()
}

/// A record reached through include/redirect: its own lookups, what it includes, its policy
/// terms ([`records::spf_policy`]: its `all`, or where it redirects) and its passing includes
/// ([`passing_includes`]); or nothing to count (no record, several, or a lookup failure:
/// reported separately).
enum Node {
    Record(
        usize,
        Vec<String>,
        (Option<char>, Option<String>),
        Vec<String>,
    ),
    Dead,
}

/// Lookups caused by evaluating `domain`'s record (its own terms and, recursively, its includes).
/// A loop counts as over the limit: a receiver would go round until it hits it.
fn count(graph: &HashMap<String, Node>, domain: &str, path: &mut Vec<String>) -> usize {
    let key = domain.trim_end_matches('.');
    if path.iter().any(|p| p == key) {
        return SPF_LOOKUP_LIMIT + 1;
    }
    let Some(Node::Record(n, children, ..)) = graph.get(key) else {
        return 0;
    };
    path.push(key.to_string());
    let mut total = *n;
    for c in children {
        total = total.saturating_add(count(graph, c, path));
        if total > SPF_LOOKUP_LIMIT {
            break;
        }
    }
    path.pop();
    total
}

/// Where the policy of a record without an `all` comes from: the record at the end of its
/// `redirect=` chain (RFC 7208 §6.1), found in the fetched graph.
enum Effective {
    /// The `all` of the last record of `chain` (the redirect targets in order; `None`: it has
    /// neither an `all` nor a redirect).
    All(Option<char>, Vec<String>),
    /// A target with a macro: expanded per sender, so no one policy can be named.
    Macro(String),
    /// The chain is broken (no record, a lookup failure, a loop, too many records): reported by
    /// the lookup count or as a permerror/error already.
    Unreached,
}

fn effective(graph: &HashMap<String, Node>, first: &str) -> Effective {
    let mut chain: Vec<String> = Vec::new();
    let mut target = first.to_string();
    loop {
        if target.is_empty() || target.contains('%') {
            return Effective::Macro(target);
        }
        let key = target.trim_end_matches('.').to_string();
        if chain.contains(&key) {
            return Effective::Unreached;
        }
        chain.push(key.clone());
        match graph.get(&key) {
            Some(Node::Record(_, _, (None, Some(next)), _)) => target = next.clone(),
            Some(Node::Record(_, _, (all, None), _)) => return Effective::All(*all, chain),
            // `spf_policy` gives no redirect beside an `all`.
            Some(Node::Record(_, _, (Some(_), Some(_)), _)) | Some(Node::Dead) | None => {
                return Effective::Unreached;
            }
        }
    }
}

/// Whether evaluating `domain`'s record passes every sender: a passing include leads to such a
/// record, or it ends in `+all` (its own, or that of its redirect chain). The answer is the
/// path of domains from `domain` to the record with the `+all`. Loops and unfetched records
/// answer `None` (the lookup count and the permerror checks report those).
fn passes_everyone(
    graph: &HashMap<String, Node>,
    domain: &str,
    path: &mut Vec<String>,
) -> Option<Vec<String>> {
    let key = domain.trim_end_matches('.');
    if path.iter().any(|p| p == key) || path.len() > MAX_FOLLOWED {
        return None;
    }
    let Some(Node::Record(_, _, policy, includes)) = graph.get(key) else {
        return None;
    };
    path.push(key.to_string());
    let mut found = includes
        .iter()
        .find_map(|i| passes_everyone(graph, i, path));
    if found.is_none() {
        found = match policy {
            (Some('+'), _) => Some(path.clone()),
            (None, Some(next)) => passes_everyone(graph, next, path),
            _ => None,
        };
    }
    path.pop();
    found
}

/// `spf.record` from the domain's TXT strings: the record judged on its own
/// ([`records::spf`]), then every `include:`/`redirect=` followed to count the DNS lookups of the
/// whole evaluation. Over 10 → fail (receivers return permerror); an included domain without an
/// SPF record → fail (permerror, RFC 7208 §5.2); an include that cannot be looked up → error.
/// A record without an `all` is judged on the `all` of the record its `redirect=` chain ends at
/// (RFC 7208 §6.1: that record is the domain's policy), named in the summary and the evidence.
/// An `include:` (or redirect) that leads to a `+all` fails as the domain's own `+all` does:
/// the include matches every sender, and its pass is the domain's (RFC 7208 §5.2).
pub(crate) async fn spf(r: &Resolver, strings: &[String]) -> CheckResult {
    let top = records::spf(strings);
    let recs = spf_records(strings);
    let [record] = recs.as_slice() else {
        return top;
    };
    let (top_lookups, top_follow) = spf_terms(record);
    // Fetch every record reachable through include/redirect once (bounded), then count the
    // evaluation over that graph: a domain included twice costs its lookups twice, as it does
    // for a receiver.
    let mut graph: HashMap<String, Node> = HashMap::new();
    let mut queue: Vec<String> = top_follow.clone();
    let mut followed = Vec::new();
    let mut broken: Option<String> = None;
    let mut untested: Option<String> = None;
    while let Some(d) = queue.pop() {
        let key = d.trim_end_matches('.').to_string();
        if graph.contains_key(&key) || graph.len() >= MAX_FOLLOWED {
            continue;
        }
        let node = match r.rrset(&d, RecordType::TXT).await {
            Ok(set) => {
                let strings = set.txt_strings();
                let recs = spf_records(&strings);
                match recs.as_slice() {
                    [one] => {
                        if let Some(e) = records::spf_syntax_error(one) {
                            broken.get_or_insert(format!(
                                "{key}: {e}: a syntax error is a permerror for every receiver (RFC 7208 §4.6.1)"
                            ));
                        }
                        let (n, more) = spf_terms(one);
                        followed.push(json!({"domain": key, "record": one, "lookups": n}));
                        queue.extend(more.iter().cloned());
                        Node::Record(n, more, records::spf_policy(one), passing_includes(one))
                    }
                    [] => {
                        followed.push(json!({"domain": key, "record": null}));
                        broken.get_or_insert(format!(
                            "{key} has no SPF record: a permerror for every receiver (RFC 7208 §5.2)"
                        ));
                        Node::Dead
                    }
                    many => {
                        followed.push(json!({"domain": key, "records": many}));
                        broken.get_or_insert(format!(
                            "{key} has {} SPF records: a permerror (RFC 7208 §4.5)",
                            many.len()
                        ));
                        Node::Dead
                    }
                }
            }
            Err(e) => {
                untested.get_or_insert(format!("could not follow {key}: {e}"));
                Node::Dead
            }
        };
        graph.insert(key, node);
    }
    let mut path = Vec::new();
    let total = top_lookups
        + top_follow
            .iter()
            .map(|d| count(&graph, d, &mut path))
            .fold(0usize, usize::saturating_add);
    let mut c = top
        .with("lookups", total)
        .with("top_level_lookups", top_lookups)
        .with("followed", json!(followed));
    // Without an `all` of its own, the record's policy is its redirect target's (RFC 7208 §6.1):
    // judge the `all` that ends the chain, and say where it is (a target without an `all` or a
    // redirect of its own leaves unlisted senders neutral, as a record without one does).
    let mut via = String::new();
    if let (None, Some(first)) = records::spf_policy(record)
        && c.status != Status::Fail
    {
        match effective(&graph, &first) {
            Effective::All(all, chain) => {
                let last = chain.last().cloned().unwrap_or_default();
                via = if chain.len() > 1 {
                    format!(" in {last} (reached by redirect={})", chain.join(" → "))
                } else {
                    format!(" in {last} (reached by redirect=)")
                };
                (c.status, c.summary) = records::spf_all_verdict(all, &via);
                c = c
                    .with("all", all.map(|q| format!("{q}all")))
                    .with("all_from", last)
                    .with("redirects", json!(chain));
            }
            Effective::Macro(t) => {
                c.status = Status::Info;
                c.summary = format!(
                    "no 'all': the policy is that of redirect={t}, which names a macro expanded per sender (RFC 7208 §7): not judged"
                );
            }
            Effective::Unreached => {}
        }
    }
    if c.status != Status::Fail {
        let mut path = Vec::new();
        let includes = passing_includes(record)
            .into_iter()
            .map(|i| ("include:", i));
        let redirect = records::spf_policy(record).1.map(|r| ("redirect=", r));
        let open = includes
            .chain(redirect)
            .find_map(|(how, t)| passes_everyone(&graph, &t, &mut path).map(|p| (how, t, p)));
        if let Some((how, target, chain)) = open {
            let last = chain.last().cloned().unwrap_or_default();
            let via = if chain.len() > 1 {
                format!(" (through {})", chain.join(" → "))
            } else {
                String::new()
            };
            c.status = Status::Fail;
            c.summary = format!(
                "{how}{target} passes every sender: +all in {last}{via}; every host on the Internet may send as this domain (RFC 7208 §5.2)"
            );
            c = c.with("open_through", json!(chain));
        }
    }
    if total > SPF_LOOKUP_LIMIT {
        c.status = Status::Fail;
        c.summary = format!(
            "{total} DNS lookups with include/redirect followed: over the limit of {SPF_LOOKUP_LIMIT}, a permerror for every receiver (RFC 7208 §4.6.4)"
        );
    } else if let Some(b) = broken {
        c.status = Status::Fail;
        c.summary = b;
    } else if let Some(u) = untested.filter(|_| c.status.rank() < Status::Error.rank()) {
        c.status = Status::Error;
        c.summary = u;
    } else if c.status == Status::Pass {
        let all = c
            .evidence
            .get("all")
            .and_then(|v| v.as_str())
            .filter(|_| !via.is_empty())
            .map(|a| format!("; {a}{via}"))
            .unwrap_or_default();
        c.summary = format!("{record}{all} ({total} DNS lookups in all, limit {SPF_LOOKUP_LIMIT})");
    }
    c
}

/// The parents of `domain` to try for a DMARC record, nearest first: every suffix of at least
/// two labels, and (DMARCbis §4.10) no name of more than eight labels.
fn parents(domain: &str) -> Vec<String> {
    let labels: Vec<&str> = domain.trim_end_matches('.').split('.').collect();
    (1..labels.len().saturating_sub(1))
        .map(|i| labels[i..].join("."))
        .filter(|p| p.split('.').count() <= 8)
        .collect()
}

/// Did the judged TXT set hold a `v=DMARC1` record at all?
fn has_record(c: &CheckResult) -> bool {
    c.evidence
        .get("records")
        .and_then(|v| v.as_array())
        .is_some_and(|a| !a.is_empty())
}

/// `dmarc.record` from the TXT strings at `_dmarc.DOMAIN`; when there is no DMARC record there,
/// the nearest parent's record applies (its `sp=` if given, else its `p=`, RFC 7489 §6.3).
pub(crate) async fn dmarc(r: &Resolver, domain: &str, strings: &[String]) -> CheckResult {
    let own = records::dmarc(strings);
    if has_record(&own) {
        return own;
    }
    for p in parents(domain) {
        let name = format!("_dmarc.{p}");
        let set = match r.rrset(&name, RecordType::TXT).await {
            Ok(s) => s,
            Err(e) => {
                return CheckResult::new(
                    "dmarc.record",
                    Status::Error,
                    format!("no record at _dmarc.{domain}; could not look up {name}: {e}"),
                );
            }
        };
        let strings = set.txt_strings();
        let found = records::dmarc(&strings);
        if !has_record(&found) {
            continue;
        }
        return inherited(found, domain, &p, &strings);
    }
    let mut c = own;
    c.summary = format!("no DMARC record at _dmarc.{domain} or at any parent domain");
    c
}

/// The parent's record judged for a subdomain: `sp=` replaces `p=` when present.
fn inherited(found: CheckResult, domain: &str, parent: &str, strings: &[String]) -> CheckResult {
    let sp = strings
        .iter()
        .filter(|s| s.trim_start().starts_with("v=DMARC1"))
        .find_map(|s| records::tag_value(s, "sp"))
        .map(|s| s.to_ascii_lowercase());
    let base = found
        .with("org_domain", parent)
        .with("inherited", true)
        .with("sp", sp.clone());
    if base.status == Status::Fail && base.evidence.get("p").is_none() {
        // The parent's record is broken itself: that is the finding.
        return CheckResult {
            summary: format!("_dmarc.{parent} applies to {domain}: {}", base.summary),
            ..base
        };
    }
    let effective = sp
        .clone()
        .or_else(|| {
            base.evidence
                .get("p")
                .and_then(|v| v.as_str())
                .map(str::to_string)
        })
        .unwrap_or_default();
    let via = if sp.is_some() { "sp" } else { "p" };
    let (status, verdict) = match effective.as_str() {
        "reject" | "quarantine" => (Status::Pass, format!("{via}={effective}")),
        "none" => (
            Status::Warn,
            format!("{via}=none: monitoring only, failing mail is still delivered"),
        ),
        other => (Status::Fail, format!("unknown policy {via}={other}")),
    };
    CheckResult {
        status,
        summary: format!(
            "no record at _dmarc.{domain}; _dmarc.{parent} applies (RFC 7489 §6.6.3): {verdict}"
        ),
        ..base.with("p", effective.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::dns::DnsOptions;
    use crate::net::testutil::{FakeDns, RecordSpec};
    use std::time::Duration;

    #[test]
    fn terms_and_targets() {
        assert_eq!(spf_terms("v=spf1 mx -all"), (1, vec![]));
        assert_eq!(
            spf_terms("v=spf1 a mx include:_spf.example.test ip4:192.0.2.0/24 ~all"),
            (3, vec!["_spf.example.test".to_string()])
        );
        assert_eq!(
            spf_terms("v=spf1 redirect=_spf.example.test"),
            (1, vec!["_spf.example.test".to_string()])
        );
        // An `all` makes redirect ignored (RFC 7208 §6.1).
        assert_eq!(spf_terms("v=spf1 -all redirect=x.test"), (0, vec![]));
        // Macros cannot be expanded without a sender: counted, not followed.
        assert_eq!(
            spf_terms("v=spf1 exists:%{i}.x.test include:%{d}.y.test"),
            (2, vec![])
        );
        assert_eq!(
            parents("a.b.c.example.test"),
            ["b.c.example.test", "c.example.test", "example.test"]
        );
        assert!(parents("example.test").is_empty());
    }

    fn resolver(records: Vec<(&str, RecordSpec)>) -> Resolver {
        let (addr, _h) = FakeDns::start(records);
        Resolver::new(&DnsOptions {
            server: Some(addr),
            timeout: Duration::from_secs(2),
            attempts: 0,
            ..DnsOptions::default()
        })
        .unwrap()
    }

    /// `spf.record` of `domain` as `ehlo check` judges it: its TXT strings, then [`spf`].
    async fn spf_of(r: &Resolver, domain: &str) -> CheckResult {
        let set = r.rrset(domain, RecordType::TXT).await.unwrap();
        spf(r, &set.txt_strings()).await
    }

    fn txt(s: &str) -> RecordSpec {
        RecordSpec::Txt(s.to_string())
    }

    #[tokio::test]
    async fn spf_lookups_are_counted_through_includes() {
        let r = resolver(vec![
            (
                "one.test",
                txt("v=spf1 include:_a.test include:_b.test mx -all"),
            ),
            ("_a.test", txt("v=spf1 a mx include:_c.test ~all")),
            ("_b.test", txt("v=spf1 ip4:192.0.2.1 -all")),
            ("_c.test", txt("v=spf1 a mx ptr exists:x.test -all")),
            (
                "many.test",
                txt("v=spf1 include:_a.test include:_d.test -all"),
            ),
            ("_d.test", txt("v=spf1 a mx a:x.test mx:y.test -all")),
            ("loop.test", txt("v=spf1 include:_l1.test -all")),
            ("_l1.test", txt("v=spf1 include:_l2.test -all")),
            ("_l2.test", txt("v=spf1 include:_l1.test -all")),
            ("hole.test", txt("v=spf1 include:_none.test -all")),
            ("_none.test", txt("some other text")),
            ("down.test", txt("v=spf1 include:_down.test -all")),
            ("_down.test", RecordSpec::ServFail),
        ]);
        let get = |d: &'static str| spf_of(&r, d);
        // 3 at the top, 3 in _a, 0 in _b, 4 in _c: 10, the limit itself.
        let c = get("one.test").await;
        assert_eq!(c.status, Status::Pass, "{c:?}");
        assert_eq!(c.evidence["lookups"], 10);
        assert_eq!(c.evidence["top_level_lookups"], 3);
        // 2 + (3 + 4) + 4 = 13: over, though the top level alone has 2.
        let c = get("many.test").await;
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(c.summary.contains("RFC 7208 §4.6.4"), "{}", c.summary);
        assert!(c.evidence["lookups"].as_u64().unwrap() > 10);
        // An include loop ends over the limit instead of spinning.
        assert_eq!(get("loop.test").await.status, Status::Fail);
        // An included domain without SPF is a permerror.
        let c = get("hole.test").await;
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(c.summary.contains("_none.test"), "{}", c.summary);
        // An include that cannot be looked up: could not test.
        assert_eq!(get("down.test").await.status, Status::Error);
    }

    #[tokio::test]
    async fn spf_policy_reached_by_redirect_is_judged() {
        let r = resolver(vec![
            ("redir2.test", txt("v=spf1 redirect=r.redir2.test")),
            ("r.redir2.test", txt("v=spf1 +all")),
            ("noall.test", txt("v=spf1 redirect=r.noall.test")),
            ("r.noall.test", txt("v=spf1 ip4:192.0.2.1")),
            ("good.test", txt("v=spf1 redirect=_spf.good.test")),
            ("_spf.good.test", txt("v=spf1 mx -all")),
            ("chain.test", txt("v=spf1 redirect=a.chain.test")),
            ("a.chain.test", txt("v=spf1 a redirect=b.chain.test")),
            ("b.chain.test", txt("v=spf1 ?all")),
            ("own.test", txt("v=spf1 mx -all redirect=r.redir2.test")),
            ("macro.test", txt("v=spf1 redirect=%{d}.x.test")),
        ]);
        let get = |d: &'static str| spf_of(&r, d);
        // The target's +all is the domain's policy, as if it were written there.
        let c = get("redir2.test").await;
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(
            c.summary
                .starts_with("+all in r.redir2.test (reached by redirect=)"),
            "{}",
            c.summary
        );
        assert_eq!(c.evidence["all"], "+all");
        assert_eq!(c.evidence["all_from"], "r.redir2.test");
        // A target without an `all`: unlisted senders are neutral, as for the record itself.
        let c = get("noall.test").await;
        assert_eq!(c.status, Status::Warn, "{c:?}");
        assert!(
            c.summary.contains("no 'all' in r.noall.test"),
            "{}",
            c.summary
        );
        let c = get("good.test").await;
        assert_eq!(c.status, Status::Pass, "{c:?}");
        assert!(
            c.summary
                .contains("-all in _spf.good.test (reached by redirect=)"),
            "{}",
            c.summary
        );
        // Followed to the end of the chain.
        let c = get("chain.test").await;
        assert_eq!(c.status, Status::Warn, "{c:?}");
        assert!(
            c.summary.starts_with("?all in b.chain.test"),
            "{}",
            c.summary
        );
        assert_eq!(
            c.evidence["redirects"],
            json!(["a.chain.test", "b.chain.test"])
        );
        // An `all` of its own makes the redirect ignored (RFC 7208 §6.1).
        let c = get("own.test").await;
        assert_eq!(c.status, Status::Pass, "{c:?}");
        assert!(c.evidence.get("all_from").is_none(), "{c:?}");
        assert_eq!(c.evidence["lookups"], 1);
        // A macro is expanded per sender: nothing to judge.
        assert_eq!(get("macro.test").await.status, Status::Info);
    }

    #[tokio::test]
    async fn spf_include_that_passes_everyone_fails() {
        let r = resolver(vec![
            ("inc.test", txt("v=spf1 include:_open.test -all")),
            ("_open.test", txt("v=spf1 ip4:192.0.2.1 +all")),
            ("deep.test", txt("v=spf1 mx include:_mid.test -all")),
            ("_mid.test", txt("v=spf1 include:_redir.test ~all")),
            ("_redir.test", txt("v=spf1 redirect=_open.test")),
            // A `-include:` of an open record fails every sender instead: not open.
            ("minus.test", txt("v=spf1 -include:_open.test ~all")),
            // After the `all`, terms are never evaluated.
            ("late.test", txt("v=spf1 -all include:_open.test")),
            ("redirinc.test", txt("v=spf1 redirect=_mid.test")),
            ("bad.test", txt("v=spf1 include:_bad.test -all")),
            ("_bad.test", txt("v=spf1 ip4:192.0.2.1 aaaa -all")),
            ("closed.test", txt("v=spf1 include:_closed.test -all")),
            ("_closed.test", txt("v=spf1 ip4:192.0.2.1 -all")),
        ]);
        let get = |d: &'static str| spf_of(&r, d);
        let c = get("inc.test").await;
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(
            c.summary
                .starts_with("include:_open.test passes every sender: +all in _open.test;"),
            "{}",
            c.summary
        );
        assert_eq!(c.evidence["open_through"], json!(["_open.test"]));
        // Through an include and a redirect inside it.
        let c = get("deep.test").await;
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert_eq!(
            c.evidence["open_through"],
            json!(["_mid.test", "_redir.test", "_open.test"])
        );
        assert!(
            c.summary
                .contains("(through _mid.test → _redir.test → _open.test)"),
            "{}",
            c.summary
        );
        // The domain's policy is a redirect to a record that includes an open one.
        let c = get("redirinc.test").await;
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(c.summary.starts_with("redirect=_mid.test"), "{}", c.summary);
        // A syntax error in an included record is a permerror too.
        let c = get("bad.test").await;
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(
            c.summary.starts_with("_bad.test: unknown mechanism 'aaaa'"),
            "{}",
            c.summary
        );
        for d in ["minus.test", "late.test", "closed.test"] {
            let c = get(d).await;
            assert_ne!(c.status, Status::Fail, "{d}: {c:?}");
            assert!(c.evidence.get("open_through").is_none(), "{d}: {c:?}");
        }
    }

    #[tokio::test]
    async fn dmarc_falls_back_to_the_nearest_parent() {
        let r = resolver(vec![
            ("_dmarc.example.test", txt("v=DMARC1; p=reject; sp=none")),
            ("_dmarc.strict.test", txt("v=DMARC1; p=quarantine")),
            ("_dmarc.own.strict.test", txt("v=DMARC1; p=none")),
        ]);
        let get = |d: &str| {
            let r = &r;
            let d = d.to_string();
            async move {
                let set = r
                    .rrset(&format!("_dmarc.{d}"), RecordType::TXT)
                    .await
                    .unwrap();
                dmarc(r, &d, &set.txt_strings()).await
            }
        };
        // sp= governs subdomains.
        let c = get("mail.example.test").await;
        assert_eq!(c.status, Status::Warn, "{c:?}");
        assert_eq!(c.evidence["org_domain"], "example.test");
        assert_eq!(c.evidence["p"], "none");
        assert!(
            c.summary.contains("_dmarc.example.test applies"),
            "{}",
            c.summary
        );
        // Without sp=, p= does; found two levels up.
        let c = get("a.b.strict.test").await;
        assert_eq!(c.status, Status::Pass, "{c:?}");
        assert_eq!(c.evidence["inherited"], true);
        // A record of its own wins.
        let c = get("own.strict.test").await;
        assert_eq!(c.status, Status::Warn);
        assert!(c.evidence.get("inherited").is_none());
        // Nothing anywhere.
        let c = get("nothing.else.test").await;
        assert_eq!(c.status, Status::Warn);
        assert!(c.summary.contains("any parent"), "{}", c.summary);
    }
}
