//! XCLIENT and XFORWARD (Postfix XCLIENT_README, XFORWARD_README) in the client session.

use std::collections::VecDeque;

use crate::smtp::codes::Hint;
use crate::smtp::event::{Phase, SentKind, plural_s};
use crate::smtp::ext::{self, Extension};
use crate::smtp::reply::Reply;

use super::{
    Expect, Protocol, Session, SessionError, StopAt, XclientCommand, XclientRequirement,
    XclientStep,
};

impl Session {
    // ----- XCLIENT (Postfix XCLIENT_README) -------------------------------------------------

    pub(super) fn begin_xclient(&mut self) {
        self.xclient = XclientStep::Sending;
        let Some(plan) = self.plan.ext.xclient.clone() else {
            self.begin_auth();
            return;
        };
        let advertised: Option<Vec<String>> = self
            .caps
            .as_ref()
            .and_then(|c| c.params("XCLIENT"))
            .map(<[String]>::to_vec);
        let problem = match &advertised {
            None if !self.plan.ext.force => Some(Hint::new(
                "not advertised by the server (it must list this client in smtpd_authorized_xclient_hosts; ⟨force-ext⟩ sends it anyway)",
            )),
            Some(adv) if !plan.no_verify && !self.plan.ext.force => {
                let attrs = plan.attrs();
                let missing = ext::unadvertised(&attrs, adv);
                (!missing.is_empty()).then(|| {
                    Hint::plain(format!(
                        "attribute{} {} not advertised (the server offers {}",
                        plural_s(missing.len()),
                        missing.join(", "),
                        adv.join(" ")
                    ))
                    .and(if missing.len() == 1 {
                        "; ⟨xclient-no-verify⟩ sends it anyway)"
                    } else {
                        "; ⟨xclient-no-verify⟩ sends them anyway)"
                    })
                })
            }
            _ => None,
        };
        if let Some(reason) = problem {
            let setting = match plan.requirement {
                XclientRequirement::Optional => ": carrying on without it (⟨xclient-optional⟩)",
                XclientRequirement::OptionalStrict => {
                    ": carrying on without it (⟨xclient-optional-strict⟩)"
                }
                XclientRequirement::Required => {
                    self.fail(SessionError::Extension {
                        extension: Extension::Xclient,
                        phase: Phase::Xclient,
                        reason,
                    });
                    return;
                }
            };
            let mut message = Hint::plain("XCLIENT: ");
            message.push(reason);
            self.out.advise(message.and(setting));
            if !self.stop_without_xclient() {
                self.proceed_after_greeting(false);
            }
            return;
        }
        let lines: VecDeque<String> = plan
            .commands
            .iter()
            .filter_map(|c| match c {
                XclientCommand::Attrs(a) if a.is_empty() => None,
                XclientCommand::Attrs(a) => Some(ext::attribute_command("XCLIENT", a)),
                XclientCommand::Raw(r) => Some(format!("XCLIENT {r}")),
            })
            .collect();
        if lines.is_empty() {
            self.proceed_after_greeting(false);
            return;
        }
        self.xclient_lines = lines;
        self.send_xclient_line();
    }

    /// XCLIENT did not happen (optional, and not offered or refused): an XCLIENT or
    /// XCLIENT-HELO stop point ends the session here all the same, as TLS and AUTH ones do,
    /// rather than going on to deliver. Returns true when it stopped.
    fn stop_without_xclient(&mut self) -> bool {
        self.stop_without_step(StopAt::Xclient) || self.stop_without_step(StopAt::XclientHelo)
    }

    pub(super) fn send_xclient_line(&mut self) {
        let Some(line) = self.xclient_lines.pop_front() else {
            return;
        };
        let last = self.xclient_lines.is_empty();
        let mut wire = line.clone().into_bytes();
        wire.extend_from_slice(b"\r\n");
        self.out.send(
            &wire,
            line,
            SentKind::Command,
            Phase::Xclient,
            false,
            self.tls,
        );
        self.expect_reply(Expect::Xclient { last });
        if last {
            self.drop_after_send(StopAt::Xclient);
        }
    }

    pub(super) fn on_xclient(&mut self, reply: Reply, last: bool) {
        if !reply.is_ready() {
            let optional = self
                .plan
                .ext
                .xclient
                .as_ref()
                .is_some_and(|x| x.requirement == XclientRequirement::Optional);
            if optional {
                self.xclient_lines.clear();
                self.out.advise(Hint::new(
                    "XCLIENT was refused: carrying on without it (⟨xclient-optional⟩)",
                ));
                if !self.stop_without_xclient() {
                    self.proceed_after_greeting(false);
                }
            } else {
                self.fail(SessionError::UnexpectedReply {
                    phase: Phase::Xclient,
                    expected: "220",
                    verb: None,
                    reply: Box::new(reply),
                });
            }
            return;
        }
        if !last {
            self.send_xclient_line();
            return;
        }
        if self.stop_here(StopAt::Xclient) {
            return;
        }
        // XCLIENT starts a new session: greet again (Postfix XCLIENT_README).
        self.caps = None;
        self.xclient = XclientStep::Regreeting;
        let ehlo = self.plan.protocol != Protocol::Smtp;
        let tls = self.tls;
        self.send_greeting(ehlo, tls);
    }

    pub(super) fn on_xforward(&mut self, reply: Reply) {
        if !(Expect::Xforward { last: true }).wants(reply.code) {
            self.fail(SessionError::UnexpectedReply {
                phase: Phase::Mail,
                expected: "250",
                verb: None,
                reply: Box::new(reply),
            });
            return;
        }
        self.begin_mail();
    }
}
