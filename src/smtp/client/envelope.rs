//! The envelope in the client session: MAIL FROM with its extension parameters, RCPT TO.

use crate::smtp::capabilities::Capabilities;
use crate::smtp::codes::Hint;
use crate::smtp::command::Command;
use crate::smtp::data;
use crate::smtp::event::{Phase, SentKind, plural_s};
use crate::smtp::ext::{self, Extension};
use crate::smtp::reply::Reply;

use super::{Expect, Session, SessionError, Stop, StopAt};

impl Session {
    // ----- the transaction ------------------------------------------------------------------

    /// Does the session stop (quit or drop) before DATA, so the content is never sent?
    fn stops_before_data(&self) -> bool {
        matches!(
            self.plan.stop,
            Some(Stop {
                at: StopAt::Mail | StopAt::Rcpt,
                ..
            })
        )
    }

    /// Did DATA go out with MAIL and the RCPTs? Then a refusal of them waits for its reply
    /// before QUIT; otherwise (one command at a time, chunks, a stop at RCPT) QUIT goes at
    /// once, any RCPT replies still coming being read before QUIT's.
    fn data_pipelined(&self) -> bool {
        self.pipelining && self.plan.ext.bdat.is_none() && !self.stops_before_data()
    }

    pub(super) fn begin_mail(&mut self) {
        let advertised = self.caps.as_ref().is_some_and(|c| c.has("PIPELINING"));
        let stop_before_data = self.stops_before_data();
        // XFORWARD (Postfix XFORWARD_README) goes before MAIL, once.
        if !self.xforward_done && !self.plan.ext.xforward.is_empty() {
            self.xforward_done = true;
            let advertised: Option<Vec<String>> = self
                .caps
                .as_ref()
                .and_then(|c| c.params("XFORWARD"))
                .map(<[String]>::to_vec);
            let problem = match &advertised {
                None => Some("not advertised by the server (it must list this client in smtpd_authorized_xforward_hosts)".to_string()),
                Some(adv) => {
                    let missing = ext::unadvertised(&self.plan.ext.xforward, adv);
                    (!missing.is_empty()).then(|| {
                        format!(
                            "attribute{} {} not advertised (the server offers {})",
                            plural_s(missing.len()),
                            missing.join(", "),
                            adv.join(" ")
                        )
                    })
                }
            };
            match problem {
                Some(reason) if !self.plan.ext.force => {
                    self.fail(SessionError::Extension {
                        extension: Extension::Xforward,
                        phase: Phase::Mail,
                        reason: Hint::plain(reason).and("; ⟨force-ext⟩ sends it anyway"),
                    });
                    return;
                }
                Some(reason) => self.out.advise(
                    Hint::plain(format!("XFORWARD: {reason}"))
                        .and(": sending it anyway (⟨force-ext⟩)"),
                ),
                None => {}
            }
            let line = ext::attribute_command("XFORWARD", &self.plan.ext.xforward);
            let mut wire = line.clone().into_bytes();
            wire.extend_from_slice(b"\r\n");
            self.out
                .send(&wire, line, SentKind::Command, Phase::Mail, false, self.tls);
            self.expect_reply(Expect::Xforward { last: true });
            return;
        }
        // A stop at MAIL leaves MAIL alone to send; a stop at RCPT still pipelines MAIL and
        // every RCPT (RFC 2920 §3.1), only without DATA or a chunk after them, as swaks does.
        let stop_at_mail = matches!(
            self.plan.stop,
            Some(Stop {
                at: StopAt::Mail,
                ..
            })
        );
        self.pipelining = self.plan.pipeline && advertised && !stop_at_mail;
        if self.plan.pipeline && !advertised {
            self.out.advise(Hint::new(
                "⟨pipeline⟩: PIPELINING is not advertised, sending one command at a time",
            ));
        }
        let mut params = match self.extension_params() {
            Ok(p) => p,
            Err(e) => {
                self.fail(e);
                return;
            }
        };
        if !stop_before_data && let Some(warning) = data::long_lines(&self.message, self.plan.fixup)
        {
            self.out.warn(warning);
        }
        params.extend(self.plan.mail_params.iter().cloned());
        self.mail_params.clone_from(&params);
        let mail = Command::Mail {
            from: self.wire_address(&self.plan.from),
            params,
        };
        self.send_command(&mail, Phase::Mail, Expect::Mail);
        if self.drop_after_send(StopAt::Mail) {
            return;
        }
        if self.pipelining {
            for n in 0..self.plan.rcpts.len() {
                self.send_rcpt(n);
            }
            if stop_before_data {
                self.drop_after_send(StopAt::Rcpt);
                return;
            }
            match self.plan.ext.bdat {
                None => self.send_command(&Command::Data, Phase::Data, Expect::Data),
                // RFC 3030 §4.2: BDAT may follow MAIL and RCPT before their replies; a server
                // that accepted no recipient refuses the chunks and discards them (§2).
                Some(size) if self.chunks_with_envelope() => self.begin_bdat(size),
                // Otherwise the chunks wait for the RCPT replies.
                Some(_) => {}
            }
        }
    }

    /// Is this extension usable? Advertised → yes; otherwise an error, or a warning under
    /// `--force-ext`.
    pub(super) fn require(
        &mut self,
        extension: Extension,
        phase: Phase,
        why: Hint,
    ) -> Result<(), SessionError> {
        if self
            .caps
            .as_ref()
            .is_some_and(|c| c.has(extension.keyword()))
        {
            return Ok(());
        }
        if self.plan.ext.force {
            self.out.advise(Hint::new(format!(
                "{} is not advertised: using it anyway (⟨force-ext⟩)",
                extension.keyword()
            )));
            return Ok(());
        }
        Err(SessionError::Extension {
            extension,
            phase,
            reason: why.and(", but the server does not advertise it (⟨force-ext⟩ sends it anyway)"),
        })
    }

    /// `addr`'s form with its domain in A-labels, when the plan has one.
    fn a_label_of(&self, addr: &str) -> Option<&str> {
        self.plan
            .a_labels
            .iter()
            .find(|(given, _)| given == addr)
            .map(|(_, sent)| sent.as_str())
    }

    /// The address as MAIL or RCPT carries it: as given, or with its domain's A-labels when
    /// the transaction goes without SMTPUTF8 ([`Self::extension_params`]).
    fn wire_address(&self, addr: &str) -> String {
        match self.a_label_of(addr) {
            Some(sent) if self.a_labels_sent => sent.to_string(),
            _ => addr.to_string(),
        }
    }

    pub(super) fn user_mail_param(&self, keyword: &str) -> bool {
        self.plan
            .mail_params
            .iter()
            .any(|p| param_keyword(p).eq_ignore_ascii_case(keyword))
    }

    /// The MAIL parameters the extensions need, checked against the capabilities before anything
    /// of the transaction is sent (so nothing goes out half-way).
    pub(super) fn extension_params(&mut self) -> Result<Vec<String>, SessionError> {
        let mut params = Vec::new();
        // Judged on what is sent: without the mbox `From ` line the fix-up strips.
        let content = data::without_from_line(&self.message, self.plan.fixup);
        let utf8_headers = ext::headers_need_utf8(content);
        let eight_bit = ext::is_8bit(content);
        // SMTPUTF8 (RFC 6531 §3.4): for a UTF-8 address, `--smtputf8`, or a UTF-8 header (RFC 6532).
        // An address cannot go out without it (the server would refuse the command); a header
        // is content, and swaks sends it as it is: to a server that does not offer SMTPUTF8 it
        // goes undeclared with a warning, as 8-bit content does below (RFC 6531 §3.2 says a
        // client must not send it; refusing here would fail a swaks command line that works).
        let mut utf8_addr =
            !self.plan.from.is_ascii() || self.plan.rcpts.iter().any(|r| !r.is_ascii());
        let utf8_offered = self.caps.as_ref().is_some_and(|c| c.has("SMTPUTF8"));
        // An address whose local part is ASCII and whose domain is not is sent with the
        // domain's A-labels when SMTPUTF8 is not offered (and not asked for, nor forced): the
        // same mailbox (RFC 5890 §2.3.2.1) in the ASCII form RFC 5321 §2.3.5 wants, so no
        // extension is needed for it (RFC 6531 §3.2 forbids only what cannot be written in
        // ASCII: a non-ASCII local part still needs SMTPUTF8, exit 31 without it).
        self.a_labels_sent = false;
        if utf8_addr
            && !utf8_offered
            && !self.plan.ext.force
            && !self.plan.ext.smtputf8
            && !self.user_mail_param("SMTPUTF8")
            && std::iter::once(&self.plan.from)
                .chain(&self.plan.rcpts)
                .all(|a| a.is_ascii() || self.a_label_of(a).is_some())
        {
            self.a_labels_sent = true;
            utf8_addr = false;
            for (given, sent) in self.plan.a_labels.clone() {
                let used = given == self.plan.from || self.plan.rcpts.contains(&given);
                if used {
                    self.out.info(format!(
                        "<{given}> is sent as <{sent}>: the server does not advertise SMTPUTF8, \
                         and the domain's A-label form needs none (RFC 5890 §2.3.2.1, RFC 6531 §3.2)"
                    ));
                }
            }
        }
        let mut warned_undeclared = false;
        if !self.user_mail_param("SMTPUTF8") {
            if self.plan.ext.smtputf8
                || utf8_addr
                || (utf8_headers && (utf8_offered || self.plan.ext.force))
            {
                let why = if self.plan.ext.smtputf8 {
                    "⟨smtputf8⟩ was given"
                } else if utf8_addr {
                    "an address is not ASCII (RFC 6531)"
                } else {
                    "a header is not ASCII (RFC 6532)"
                };
                self.require(Extension::SmtpUtf8, Phase::Mail, Hint::new(why))?;
                params.push("SMTPUTF8".to_string());
            } else if utf8_headers && !self.stops_before_data() {
                let eight_bit_offered = self.caps.as_ref().is_some_and(|c| c.has("8BITMIME"));
                let missing = if eight_bit_offered || self.user_mail_param("BODY") {
                    "SMTPUTF8"
                } else {
                    "SMTPUTF8 nor 8BITMIME"
                };
                self.out.advise(Hint::new(format!(
                    "the message has a non-ASCII header but the server does not advertise {missing}: \
                     sending it undeclared, as swaks does (RFC 6531 §3.2 says a client must not; \
                     the server may refuse or alter it; ⟨force-ext⟩ declares SMTPUTF8 anyway)",
                )));
                warned_undeclared = true;
            }
        }
        // 8BITMIME (RFC 6152): 8-bit content is declared when the server offers it (or under
        // `--force-ext`). Without it the content goes out undeclared with a warning, as swaks
        // sends it: RFC 6152 §3 says a client must not, but a refusal here would fail a swaks
        // command line that works with swaks (and most servers take 8-bit bytes regardless).
        if eight_bit && !self.user_mail_param("BODY") {
            let offered = self.caps.as_ref().is_some_and(|c| c.has("8BITMIME"));
            if offered || self.plan.ext.force {
                self.require(
                    Extension::EightBitMime,
                    Phase::Mail,
                    Hint::new("the message has 8-bit content (BODY=8BITMIME)"),
                )?;
                params.push("BODY=8BITMIME".to_string());
            } else if !self.stops_before_data() && !warned_undeclared {
                self.out.advise(Hint::new(
                    "the message has 8-bit content but the server does not advertise 8BITMIME: \
                     sending it undeclared, as swaks does (RFC 6152 §3 says a client must not; \
                     the server may refuse or alter it; ⟨force-ext⟩ declares BODY=8BITMIME anyway)",
                ));
            }
        }
        // SIZE (RFC 1870 §4): declare the size; warn when it is over the limit.
        if let Some(limit) = self.caps.as_ref().and_then(Capabilities::size)
            && !self.user_mail_param("SIZE")
        {
            let size = self.chunked_len();
            if limit > 0 && size as u64 > limit {
                self.out.warn(format!(
                    "the message is {size} octets, over the server's SIZE limit of {limit} (RFC 1870): it will probably be refused"
                ));
            }
            params.push(format!("SIZE={size}"));
        }
        // DSN (RFC 3461).
        if !self.plan.ext.dsn.is_empty() {
            self.require(
                Extension::Dsn,
                Phase::Mail,
                Hint::new("DSN options were given"),
            )?;
            // A RET= or ENVID= given with --mail-param replaces the flag's, as a user SIZE= or
            // BODY= replaces ehlo's: a parameter twice on one command is a syntax error (RFC 5321
            // §4.1.1.11 lists each keyword once), which Postfix and Exim refuse with 501.
            let dsn: Vec<String> = (self.plan.ext.dsn.mail_params().into_iter())
                .filter(|p| !self.user_mail_param(param_keyword(p)))
                .collect();
            params.extend(dsn);
        }
        // REQUIRETLS (RFC 8689 §2): only over TLS, even under --force-ext (which waives the
        // keyword's absence, not the TLS).
        if self.plan.ext.requiretls {
            if !self.tls {
                return Err(SessionError::Extension {
                    extension: Extension::RequireTls,
                    phase: Phase::Mail,
                    reason: Hint::new(
                        "needs a TLS connection (RFC 8689 §2): add ⟨tls⟩ or ⟨tls-on-connect⟩",
                    ),
                });
            }
            self.require(
                Extension::RequireTls,
                Phase::Mail,
                Hint::new("⟨requiretls⟩ was given"),
            )?;
            params.push("REQUIRETLS".to_string());
        }
        // PRDR (draft-hall-prdr §3).
        if self.plan.ext.prdr {
            self.require(Extension::Prdr, Phase::Mail, Hint::new("⟨prdr⟩ was given"))?;
            params.push("PRDR".to_string());
            self.prdr_used = true;
        }
        // CHUNKING (RFC 3030): checked now so MAIL is not sent for a message that cannot go.
        if self.plan.ext.bdat.is_some() {
            self.require(
                Extension::Chunking,
                Phase::Data,
                Hint::new("⟨bdat⟩ was given"),
            )?;
        }
        Ok(params)
    }

    pub(super) fn send_rcpt(&mut self, n: usize) {
        let (to, params) = self.rcpt_command(n);
        let cmd = Command::Rcpt { to, params };
        self.send_command(&cmd, Phase::Rcpt, Expect::Rcpt(n));
        if let Some(r) = self.rcpt_results.get_mut(n) {
            r.sent();
        }
    }

    /// The address and parameters of recipient `n`'s RCPT TO (also read again to explain a
    /// refusal of them).
    pub(super) fn rcpt_command(&self, n: usize) -> (String, Vec<String>) {
        // ORCPT too: without SMTPUTF8 it names the address as sent (RFC 6533 §3 keeps the
        // UTF-8 form for sessions that have the extension).
        let to = self.wire_address(&self.plan.rcpts[n]);
        // As on MAIL, a NOTIFY= or ORCPT= given with --rcpt-param replaces the flag's.
        let user = &self.plan.rcpt_params;
        let mut params: Vec<String> = (self.plan.ext.dsn.rcpt_params(&to).into_iter())
            .filter(|p| {
                !user
                    .iter()
                    .any(|u| param_keyword(u).eq_ignore_ascii_case(param_keyword(p)))
            })
            .collect();
        params.extend(user.iter().cloned());
        (to, params)
    }

    pub(super) fn on_mail(&mut self, reply: Reply) {
        if !Expect::Mail.wants(reply.code) {
            let e = SessionError::UnexpectedReply {
                phase: Phase::Mail,
                expected: "250",
                verb: None,
                reply: Box::new(reply),
            };
            if self.data_pipelined() {
                // The RCPTs and DATA are on their way: QUIT waits for their replies, since a
                // server that answers DATA 354 all the same would take QUIT for message text;
                // that 354 gets a lone dot (RFC 2920 §3.1), as when every RCPT is refused.
                self.set_error(e);
            } else {
                self.fail(e);
            }
            return;
        }
        if self.stop_here(StopAt::Mail) {
            return;
        }
        if self.plan.rcpts.is_empty() {
            self.fail(SessionError::NoRecipients { last: None });
            return;
        }
        if !self.pipelining {
            self.send_rcpt(0);
            if self.plan.rcpts.len() == 1 {
                self.drop_after_send(StopAt::Rcpt);
            }
        }
    }

    pub(super) fn on_rcpt(&mut self, n: usize, reply: Reply) {
        if let Some(r) = self.rcpt_results.get_mut(n) {
            r.answered(&reply);
        }
        let last = n + 1 == self.plan.rcpts.len();
        if !last {
            if !self.pipelining {
                self.send_rcpt(n + 1);
                if n + 2 == self.plan.rcpts.len() {
                    self.drop_after_send(StopAt::Rcpt);
                }
            }
            return;
        }
        let accepted = self.accepted_count();
        if accepted == 0 {
            let e = SessionError::NoRecipients {
                last: Some(Box::new(reply)),
            };
            if self.data_pipelined() {
                // DATA is already on its way; its reply (554, or a 354 we must end) follows.
                self.set_error(e);
            } else {
                self.fail(e);
            }
            return;
        }
        if self.stop_here(StopAt::Rcpt) {
            return;
        }
        if let Some(size) = self.plan.ext.bdat {
            if !self.bdat_begun {
                self.begin_bdat(size);
            }
        } else if !self.pipelining {
            self.send_command(&Command::Data, Phase::Data, Expect::Data);
            self.drop_after_send(StopAt::Data);
        }
    }
}

/// The keyword of an ESMTP parameter (`RET` of `RET=FULL`, `SMTPUTF8` of `SMTPUTF8`).
fn param_keyword(p: &str) -> &str {
    p.split('=').next().unwrap_or(p)
}
