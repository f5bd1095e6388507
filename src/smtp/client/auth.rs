//! AUTH (RFC 4954) in the client session: mechanism choice, the SASL exchange, fallback.

use std::collections::VecDeque;

use crate::smtp::auth::{self, Mechanism, Step};
use crate::smtp::capabilities::{Capabilities, MAX_AUTH_MECHANISMS};
use crate::smtp::codes::Hint;
use crate::smtp::command::Command;
use crate::smtp::event::{Phase, SentKind};
use crate::smtp::reply::Reply;

use super::{Action, AuthPlan, AuthRequirement, Expect, Session, SessionError, StopAt};

/// An AUTH exchange in progress.
pub(super) struct AuthState {
    /// Mechanisms still to try after the current one.
    queue: VecDeque<String>,
    /// The mechanism being run.
    current: Option<Box<dyn Mechanism>>,
    /// Why the last mechanism could not be used (its name, the reason), for the final error.
    last_error: Option<(String, String)>,
    /// Mechanisms refused so far, with the code (`PLAIN (535)`), for the report.
    tried: Vec<String>,
    /// Why we cancelled the exchange with `*`: AUTH fails with it whatever the server answers.
    cancelled: Option<SessionError>,
    /// The cancel was for a server proof that did not verify: the session ends whatever the
    /// server answers, even when AUTH is optional.
    cancelled_unproven: bool,
}

/// What to do instead of AUTH over a connection without TLS.
const PLAINTEXT_AUTH_FIX: &str =
    "add ⟨tls⟩ (STARTTLS) or ⟨tls-on-connect⟩, or ⟨allow-plaintext-auth⟩ to send them anyway";

/// AUTH would send the credentials over a connection without TLS and that was not allowed:
/// the one refusal, made before connecting when no TLS was asked for, or when AUTH is about to
/// start on a connection an optional STARTTLS left unencrypted.
pub(crate) fn plaintext_auth_refused() -> Hint {
    Hint::new(format!(
        "AUTH without TLS would send the credentials unencrypted: {PLAINTEXT_AUTH_FIX}"
    ))
}

/// The user was asked whether AUTH may go out without TLS, and said no.
pub(crate) fn plaintext_auth_declined() -> Hint {
    Hint::new(format!(
        "AUTH over an unencrypted connection declined: {PLAINTEXT_AUTH_FIX}"
    ))
}

/// The SASL mechanisms a server offers, as a warning or an error quotes them: the first
/// [`SHOWN_MECHANISMS`] and how many more (`over N more` when the list reached
/// [`MAX_AUTH_MECHANISMS`], past which nothing was counted). A hostile EHLO of thousands of
/// names made the one-line reason of a refused AUTH a hundred names long.
pub(super) fn offered_list(mechs: &[String]) -> String {
    let mut list = mechs[..mechs.len().min(SHOWN_MECHANISMS)].join(" ");
    if mechs.len() >= MAX_AUTH_MECHANISMS {
        list.push_str(&format!(
            " and over {} more",
            MAX_AUTH_MECHANISMS - SHOWN_MECHANISMS
        ));
    } else if mechs.len() > SHOWN_MECHANISMS {
        list.push_str(&format!(" and {} more", mechs.len() - SHOWN_MECHANISMS));
    }
    list
}

/// How many mechanisms [`offered_list`] names: a handful is worth naming.
const SHOWN_MECHANISMS: usize = 8;

impl std::fmt::Debug for AuthState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthState")
            .field("queue", &self.queue)
            .field("current", &self.current.as_ref().map(|m| m.name()))
            .finish()
    }
}

impl Session {
    // ----- AUTH (RFC 4954) ------------------------------------------------------------------

    pub(super) fn begin_auth(&mut self) {
        let Some(plan) = self.plan.auth.clone() else {
            self.after_auth();
            return;
        };
        let advertised = self
            .caps
            .as_ref()
            .map(Capabilities::auth_mechanisms)
            .unwrap_or_default();
        if advertised.is_empty() && !plan.force {
            match plan.requirement {
                AuthRequirement::Required => self.fail(SessionError::NotAdvertised {
                    phase: Phase::Auth,
                    extension: "AUTH",
                    hint: Some(Hint::new(if self.tls {
                        "use ⟨auth-force⟩ to send AUTH anyway"
                    } else {
                        "many servers offer AUTH only after STARTTLS: add ⟨tls⟩"
                    })),
                }),
                _ => {
                    self.out.note(Hint::new(
                        "AUTH is not advertised: skipping it (⟨auth-optional⟩)",
                    ));
                    self.after_auth();
                }
            }
            return;
        }
        let creds = &plan.credentials;
        let usable = |m: &str| match m {
            "XOAUTH2" | "OAUTHBEARER" => creds.token.is_some(),
            _ => creds.password.is_some(),
        };
        let offers = |m: &str| self.caps.as_ref().is_some_and(|c| c.offers_auth(m));
        // The name to send for a mechanism: itself when offered (or forced), else an alias the
        // server offers for it (`AUTH MSN` for NTLM).
        let sendable = |m: &str| -> Option<String> {
            if plan.force || offers(m) {
                return Some(m.to_string());
            }
            plan.aliases_of(m).find(|a| offers(a)).map(str::to_string)
        };
        let mut queue: VecDeque<String> = VecDeque::new();
        let names: Vec<String> = if plan.mechanisms.is_empty() {
            auth::TRY_ORDER
                .iter()
                .filter(|m| usable(m))
                .map(|m| m.to_string())
                .collect()
        } else {
            plan.mechanisms
                .iter()
                .map(|m| m.to_ascii_uppercase())
                .collect()
        };
        // An authorisation identity asked for is never dropped: only the mechanisms that
        // carry one are tried (a LOGIN would authenticate as the user alone, silently).
        let authzid = creds.authzid.as_deref().is_some_and(|a| !a.is_empty());
        for name in names {
            if authzid && !auth::carries_authzid(&plan.resolve(&name)) {
                continue;
            }
            if let Some(send) = sendable(&name)
                && !queue.contains(&send)
            {
                queue.push_back(send);
            }
        }
        if queue.is_empty() {
            let why = if authzid {
                format!(
                    "an authorisation identity (authzid) is sent only by {}{}; the server offers {}",
                    auth::AUTHZID_MECHANISMS.join(", "),
                    if plan.mechanisms.is_empty() {
                        String::new()
                    } else {
                        format!(" (asked for {})", plan.mechanisms.join(","))
                    },
                    if advertised.is_empty() {
                        "none".to_string()
                    } else {
                        offered_list(&advertised)
                    }
                )
            } else if plan.mechanisms.is_empty() {
                format!(
                    "the server offers {} and ehlo has credentials for none of them",
                    offered_list(&advertised)
                )
            } else {
                format!(
                    "asked for {}, the server offers {}",
                    plan.mechanisms.join(","),
                    if advertised.is_empty() {
                        "none".to_string()
                    } else {
                        offered_list(&advertised)
                    }
                )
            };
            let why = match self.caps.as_ref().and_then(|c| c.auth_cut_at) {
                // The mechanism may well be past the cut: say so rather than "not offered".
                Some(limit) => format!(
                    "{why}; the AUTH line was cut at {limit} bytes (ehlo's line limit): \
                     mechanisms after the cut were not seen"
                ),
                None => why,
            };
            self.auth_failed(SessionError::NoMechanism(why));
            return;
        }
        if !self.tls {
            // Decided here, where it is known whether TLS is up: an optional STARTTLS the
            // server did not offer (or that failed) leaves the connection in the clear.
            if !plan.allow_plaintext {
                if plan.confirm_plaintext {
                    // The answer comes back through `plaintext_auth_answered`.
                    self.actions.push_back(Action::ConfirmPlaintextAuth);
                    return;
                }
                self.fail(SessionError::PlaintextAuth(plaintext_auth_refused()));
                return;
            }
            self.out.advise(Hint::new("AUTH over an unencrypted connection: the credentials can be read on the wire (add ⟨tls⟩)"));
        }
        self.auth = Some(AuthState {
            queue,
            current: None,
            last_error: None,
            tried: Vec::new(),
            cancelled: None,
            cancelled_unproven: false,
        });
        self.next_mechanism();
    }

    /// The answer to [`Action::ConfirmPlaintextAuth`]: `yes` lets AUTH go out over the
    /// unencrypted connection (with the usual warning), no ends the session as a refusal.
    pub(crate) fn plaintext_auth_answered(&mut self, yes: bool) {
        let Some(plan) = self.plan.auth.as_mut().filter(|a| a.confirm_plaintext) else {
            return;
        };
        // Asked once: whatever the answer, it is not asked again.
        plan.confirm_plaintext = false;
        if yes {
            plan.allow_plaintext = true;
            self.begin_auth();
        } else {
            self.fail(SessionError::PlaintextAuth(plaintext_auth_declined()));
        }
    }

    /// AUTH did not succeed: end the session with `e`, or, when the plan lets the session
    /// carry on, say why (the warning holds the reason) and go on unauthenticated.
    pub(super) fn auth_failed(&mut self, e: SessionError) {
        let (requirement, named) = self
            .plan
            .auth
            .as_ref()
            .map(|a| (a.requirement, !a.mechanisms.is_empty()))
            .unwrap_or_default();
        self.auth = None;
        // A 421 says the server is closing the channel (RFC 5321 §3.8): there is no session
        // left to carry on in, whatever the -optional flags say.
        let closing =
            matches!(&e, SessionError::UnexpectedReply { reply, .. } if reply.announces_close());
        let carry_on = match requirement {
            _ if closing => None,
            AuthRequirement::Optional => Some("⟨auth-optional⟩"),
            // Only AUTH that was tried and failed fails the session (swaks's
            // auth_optional_strict): the mechanism asked for not being offered is not that.
            // With none named, offered mechanisms without credentials for them is a failure.
            AuthRequirement::OptionalStrict
                if named && matches!(e, SessionError::NoMechanism(_)) =>
            {
                Some("⟨auth-optional-strict⟩")
            }
            _ => None,
        };
        match carry_on {
            Some(setting) => {
                self.out.advise(
                    Hint::plain(e.to_string())
                        .and(&format!(": carrying on without AUTH ({setting})")),
                );
                self.after_auth();
            }
            None => self.fail(e),
        }
    }

    pub(super) fn next_mechanism(&mut self) {
        let plan = self.plan.auth.clone().unwrap_or_default();
        let Some(state) = self.auth.as_mut() else {
            return;
        };
        let Some(name) = state.queue.pop_front() else {
            // Named by the mechanism that could not run ("AUTH LOGIN: LOGIN needs a user
            // name"), not "AUTH AUTH: LOGIN: …".
            let (mechanism, reason) = state
                .last_error
                .take()
                .unwrap_or_else(|| ("AUTH".into(), "every mechanism tried was refused".into()));
            self.auth_failed(SessionError::Auth { mechanism, reason });
            return;
        };
        let Some(mut mech) = auth::mechanism(&plan.resolve(&name), &plan.credentials) else {
            self.auth_failed(SessionError::Auth {
                mechanism: name,
                reason: "ehlo does not implement this mechanism".into(),
            });
            return;
        };
        if let Err(e) = mech.ready() {
            // A credential this mechanism needs is missing: try the next one.
            if let Some(state) = self.auth.as_mut() {
                state.last_error = Some((name.clone(), e.to_string()));
            }
            self.next_mechanism();
            return;
        }
        let initial = mech.initial_response();
        let (wire_ir, display_ir, secret) = match &initial {
            Some(step) => {
                let b64 = auth::encode_initial(step);
                let shown = self.show_step(step, &b64, &plan);
                (Some(b64), Some(shown), step.secret && !plan.show_secrets)
            }
            None => (None, None, false),
        };
        if secret && let Some(ir) = &wire_ir {
            self.remember_secret(ir);
        }
        let cmd = Command::Auth {
            mechanism: name.clone(),
            initial: wire_ir,
        };
        let wire = cmd.encode();
        let display = match display_ir {
            Some(d) => format!("AUTH {name} {d}"),
            None => format!("AUTH {name}"),
        };
        self.out.send(
            &wire,
            display,
            SentKind::Command,
            Phase::Auth,
            secret,
            self.tls,
        );
        self.expect_reply(Expect::Auth);
        if let Some(state) = self.auth.as_mut() {
            state.current = Some(mech);
        }
        self.drop_after_send(StopAt::Auth);
    }

    /// How one SASL response is shown: base64 as sent, the decoded form with
    /// `--auth-plaintext`, secrets masked (same length) unless `--show-secrets`.
    pub(super) fn show_step(&self, step: &Step, b64: &str, plan: &AuthPlan) -> String {
        match (plan.show_plaintext, step.secret && !plan.show_secrets) {
            (true, _) => step.display.clone(),
            (false, true) => auth::mask(b64),
            (false, false) => b64.to_string(),
        }
    }

    pub(super) fn on_auth(&mut self, reply: Reply) {
        let plan = self.plan.auth.clone().unwrap_or_default();
        let name = self
            .auth
            .as_ref()
            .and_then(|s| s.current.as_ref().map(|m| m.name()))
            .unwrap_or("AUTH")
            .to_string();
        match reply.code {
            Some(334) => {
                let text = reply.lines.first().cloned().unwrap_or_default();
                let ignored = self
                    .auth
                    .as_ref()
                    .and_then(|s| s.current.as_ref())
                    .is_some_and(|m| m.ignores_challenge());
                // A mechanism that ignores the text (LOGIN's prompts, PLAIN's one 334) goes on
                // when it is not base64; it is still shown decoded when it is.
                let decoded = auth::decode_challenge(text.trim());
                if plan.show_plaintext
                    && let Ok(shown) = &decoded
                {
                    // The server's bytes: controls escaped, so a CR LF in a challenge cannot
                    // start a line of its own in the transcript.
                    self.out
                        .info(format!("challenge decoded: {}", auth::printable(shown)));
                }
                let challenge = match decoded {
                    _ if ignored => Vec::new(),
                    Ok(c) => c,
                    Err(e) => {
                        self.cancel_exchange(name, e);
                        return;
                    }
                };
                let step = match self.auth.as_mut().and_then(|s| s.current.as_mut()) {
                    Some(m) => m.respond(&challenge),
                    None => return,
                };
                if let Some(err) = self
                    .auth
                    .as_ref()
                    .and_then(|s| s.current.as_ref())
                    .and_then(|m| m.server_error())
                {
                    self.out
                        .info(format!("{name}: the server reports an error: {err}"));
                }
                if let Some(note) = self
                    .auth
                    .as_ref()
                    .and_then(|s| s.current.as_ref())
                    .and_then(|m| m.notice())
                {
                    self.out.warn(format!("{name}: {note}"));
                }
                match step {
                    Ok(step) => {
                        let b64 = auth::encode_response(&step);
                        let shown = self.show_step(&step, &b64, &plan);
                        let secret = step.secret && !plan.show_secrets;
                        if secret {
                            self.remember_secret(&b64);
                        }
                        let wire = format!("{b64}\r\n").into_bytes();
                        self.out
                            .send(&wire, shown, SentKind::Auth, Phase::Auth, secret, self.tls);
                        self.expect_reply(Expect::Auth);
                    }
                    Err(e) => self.cancel_exchange(name, e),
                }
            }
            Some(235) => {
                // Success only when the mechanism running accepts it (a SCRAM or DIGEST-MD5
                // server must have proved it knows the password).
                let verdict = match self.auth.as_mut().and_then(|s| s.current.as_mut()) {
                    Some(m) => m.finish(None).map_err(|e| e.to_string()),
                    None => Err("235 without an exchange in progress".to_string()),
                };
                if let Err(reason) = verdict {
                    // The server claims success without having proved it knows the password:
                    // it holds the connection as authenticated, so no mail may follow.
                    self.server_unproven(SessionError::Auth {
                        mechanism: name,
                        reason,
                    });
                    return;
                }
                self.auth = None;
                self.authenticated = true;
                self.after_auth();
            }
            _ => {
                // Every mechanism in the queue is tried, as the help says and swaks does: a
                // 535 for one may be a mechanism the account cannot use (a PLAIN-only password
                // backend, CRAM-MD5 without a stored plaintext). Only a server that is
                // closing (421) ends the attempts early. Each refusal is reported.
                let code = reply
                    .code
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "no code".into());
                let next = self
                    .auth
                    .as_ref()
                    .and_then(|s| s.queue.front().cloned())
                    .filter(|_| !reply.announces_close());
                if let Some(state) = self.auth.as_mut() {
                    state.tried.push(format!("{name} ({code})"));
                }
                // Credentials refused (RFC 4954 §6: 535 5.7.8): the mechanism may know a variant
                // the server wants instead (NTLMv1 for a server that knows no NTLMv2).
                let rejected = reply.code == Some(535)
                    || reply
                        .enhanced
                        .is_some_and(|e| (e.class, e.subject, e.detail) == (5, 7, 8));
                if rejected
                    && let Some(note) = self
                        .auth
                        .as_ref()
                        .and_then(|s| s.current.as_ref())
                        .and_then(|m| m.when_refused())
                {
                    self.out.note(Hint::new(note));
                }
                if let Some(next) = next {
                    self.out.info(format!(
                        "AUTH {name} refused with {code}: trying {next} next"
                    ));
                    self.next_mechanism();
                } else {
                    let tried = self
                        .auth
                        .as_ref()
                        .map(|s| s.tried.clone())
                        .unwrap_or_default();
                    if tried.len() > 1 {
                        self.out
                            .info(format!("every mechanism was refused: {}", tried.join(", ")));
                    }
                    self.auth_failed(SessionError::UnexpectedReply {
                        phase: Phase::Auth,
                        expected: "235",
                        verb: None,
                        reply: Box::new(reply),
                    });
                }
            }
        }
    }

    /// Cancel the exchange (RFC 4954 §4: a `*` line) because of `reason`: no other mechanism
    /// is tried, and the server's answer ends AUTH as failed ([`Session::on_auth_cancelled`]).
    fn cancel_exchange(&mut self, mechanism: String, e: auth::AuthError) {
        self.out.cancel_auth(self.tls);
        self.expect_reply(Expect::AuthCancel);
        let unproven = e == auth::AuthError::ServerSignature;
        let why = SessionError::Auth {
            mechanism,
            reason: e.to_string(),
        };
        match self.auth.as_mut() {
            Some(s) => {
                s.queue.clear();
                s.current = None;
                s.cancelled = Some(why);
                s.cancelled_unproven = unproven;
            }
            None => self.set_error(why),
        }
    }

    /// The server's answer to our `*` (RFC 4954 §4: 501). Whatever it is, AUTH failed for the
    /// reason we cancelled: a 235 here claims success for an exchange we refused to finish,
    /// so it is reported as such and never counts as authenticated.
    pub(super) fn on_auth_cancelled(&mut self, reply: Reply) {
        let unproven = self.auth.as_ref().is_some_and(|s| s.cancelled_unproven);
        let why = self
            .auth
            .as_mut()
            .and_then(|s| s.cancelled.take())
            .or_else(|| self.error.take())
            .unwrap_or_else(|| SessionError::Auth {
                mechanism: "AUTH".into(),
                reason: "the exchange was cancelled".into(),
            });
        let e = match (reply.code, why) {
            (Some(235), SessionError::Auth { mechanism, reason }) => SessionError::Auth {
                mechanism,
                reason: format!(
                    "{reason}; the server then answered the cancelled exchange with 235, \
                     claiming success: it could not prove it knows the password, so the \
                     session is not authenticated"
                ),
            },
            (_, why) => why,
        };
        if unproven {
            self.server_unproven(e);
        } else {
            self.auth_failed(e);
        }
    }

    /// The server did not prove it knows the password (SCRAM `v=`, DIGEST-MD5 `rspauth`,
    /// RFC 5802 §5 and §9, RFC 2831 §2.1.3): it may be an impostor, and may hold the
    /// connection as authenticated. The session ends (QUIT, AUTH's exit code) even when AUTH
    /// is optional: carrying on would hand the message to that server.
    fn server_unproven(&mut self, e: SessionError) {
        self.auth = None;
        self.fail(e);
    }

    /// AUTH is over, whether it ran, failed while optional or was never asked for: the
    /// AUTH stop point applies before MAIL in every case, as in swaks (`sendmail` quits at
    /// `auth` after its AUTH block, whatever that block did).
    pub(super) fn after_auth(&mut self) {
        // A failed AUTH that lets the session go on leaves no error (its warning says why);
        // one recorded here ends the session.
        if self.error.is_some() {
            self.quit();
            return;
        }
        let stopped = if self.authenticated {
            self.stop_here(StopAt::Auth)
        } else {
            self.stop_without_step(StopAt::Auth)
        };
        if !stopped {
            self.begin_mail();
        }
    }
}
