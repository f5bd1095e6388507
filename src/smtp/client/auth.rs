//! AUTH (RFC 4954) in the client session: mechanism choice, the SASL exchange, fallback.

use std::collections::VecDeque;

use crate::smtp::auth::{self, Mechanism, Step};
use crate::smtp::capabilities::Capabilities;
use crate::smtp::codes::Hint;
use crate::smtp::command::Command;
use crate::smtp::event::{Phase, SentKind};
use crate::smtp::reply::Reply;

use super::{AuthPlan, AuthRequirement, Expect, Session, SessionError, StopAt};

/// An AUTH exchange in progress.
pub(super) struct AuthState {
    /// Mechanisms still to try after the current one.
    queue: VecDeque<String>,
    /// The mechanism being run.
    current: Option<Box<dyn Mechanism>>,
    /// Why the last mechanism could not be used, for the final error.
    last_error: Option<String>,
    /// Mechanisms refused so far, with the code (`PLAIN (535)`), for the report.
    tried: Vec<String>,
}

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
            auth::SUPPORTED
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
        for name in names {
            if let Some(send) = sendable(&name)
                && !queue.contains(&send)
            {
                queue.push_back(send);
            }
        }
        if queue.is_empty() {
            let why = if plan.mechanisms.is_empty() {
                format!(
                    "the server offers {} and ehlo has credentials for none of them",
                    advertised.join(" ")
                )
            } else {
                format!(
                    "asked for {}, the server offers {}",
                    plan.mechanisms.join(","),
                    if advertised.is_empty() {
                        "none".to_string()
                    } else {
                        advertised.join(" ")
                    }
                )
            };
            self.auth_failed(SessionError::NoMechanism(why));
            return;
        }
        if !self.tls {
            self.out.advise(Hint::new("AUTH over an unencrypted connection: the credentials can be read on the wire (add ⟨tls⟩)"));
        }
        self.auth = Some(AuthState {
            queue,
            current: None,
            last_error: None,
            tried: Vec::new(),
        });
        self.next_mechanism();
    }

    pub(super) fn auth_failed(&mut self, e: SessionError) {
        let requirement = self
            .plan
            .auth
            .as_ref()
            .map(|a| a.requirement)
            .unwrap_or_default();
        self.auth = None;
        if requirement == AuthRequirement::Optional {
            self.out.advise(
                Hint::plain(e.to_string()).and(": carrying on without AUTH (⟨auth-optional⟩)"),
            );
            self.after_auth();
        } else {
            self.fail(e);
        }
    }

    pub(super) fn next_mechanism(&mut self) {
        let plan = self.plan.auth.clone().unwrap_or_default();
        let Some(state) = self.auth.as_mut() else {
            return;
        };
        let Some(name) = state.queue.pop_front() else {
            let reason = state
                .last_error
                .take()
                .unwrap_or_else(|| "every mechanism tried was refused".into());
            self.auth_failed(SessionError::Auth {
                mechanism: "AUTH".into(),
                reason,
            });
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
                state.last_error = Some(format!("{name}: {e}"));
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
        self.pending.push_back(Expect::Auth);
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
                let decoded = if ignored {
                    Ok(Vec::new())
                } else {
                    auth::decode_challenge(text.trim())
                };
                let challenge = match decoded {
                    Ok(c) => c,
                    Err(e) => {
                        // Cancel the exchange (RFC 4954 §4: a "*" line) and fail.
                        self.out.cancel_auth(self.tls);
                        self.pending.push_back(Expect::Auth);
                        self.set_error(SessionError::Auth {
                            mechanism: name,
                            reason: e.to_string(),
                        });
                        self.finishing_auth_cancel();
                        return;
                    }
                };
                if plan.show_plaintext {
                    self.out.info(format!(
                        "challenge decoded: {}",
                        String::from_utf8_lossy(&challenge)
                    ));
                }
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
                match step {
                    Ok(step) => {
                        let b64 = auth::encode_response(&step);
                        let shown = self.show_step(&step, &b64, &plan);
                        let secret = step.secret && !plan.show_secrets;
                        let wire = format!("{b64}\r\n").into_bytes();
                        self.out
                            .send(&wire, shown, SentKind::Auth, Phase::Auth, secret, self.tls);
                        self.pending.push_back(Expect::Auth);
                    }
                    Err(e) => {
                        self.out.cancel_auth(self.tls);
                        self.pending.push_back(Expect::Auth);
                        self.set_error(SessionError::Auth {
                            mechanism: name,
                            reason: e.to_string(),
                        });
                        self.finishing_auth_cancel();
                    }
                }
            }
            Some(235) => {
                let verdict = self
                    .auth
                    .as_mut()
                    .and_then(|s| s.current.as_mut())
                    .map(|m| m.finish(None))
                    .unwrap_or(Ok(()));
                if let Err(e) = verdict {
                    self.auth_failed(SessionError::Auth {
                        mechanism: name,
                        reason: e.to_string(),
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
                    .filter(|_| reply.code != Some(421));
                if let Some(state) = self.auth.as_mut() {
                    state.tried.push(format!("{name} ({code})"));
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
                        reply: Box::new(reply),
                    });
                }
            }
        }
    }

    /// After we cancelled with `*`, the server answers 501; then fail (respecting the policy).
    pub(super) fn finishing_auth_cancel(&mut self) {
        if let Some(s) = self.auth.as_mut() {
            s.queue.clear();
            s.current = None;
        }
    }

    /// AUTH is over, whether it ran, failed while optional or was never asked for: the
    /// AUTH stop point applies before MAIL in every case, as in swaks (`sendmail` quits at
    /// `auth` after its AUTH block, whatever that block did).
    pub(super) fn after_auth(&mut self) {
        // An error recorded during a cancelled exchange ends here, unless AUTH was optional
        // (then it is only the reason AUTH did not happen, and the session goes on).
        if let Some(e) = self.error.clone() {
            let optional = self
                .plan
                .auth
                .as_ref()
                .is_some_and(|a| a.requirement == AuthRequirement::Optional);
            if !(optional && matches!(e, SessionError::Auth { .. })) {
                self.quit();
                return;
            }
            self.error = None;
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
