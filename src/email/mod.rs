//! Email: turning a template into a message and handing it to a mail server.
//!
//! This module owns everything between "the outbox decided to send this row" and "the
//! relay said 250" — and nothing about which rows to send (that is `outbox/`):
//!
//! * [`EmailMessage`]: a rendered email (`templates/email/<name>/{subject.txt,body.txt,
//!   body.html}.hbs`), its recipient, its stable `Message-ID` and its `List-Unsubscribe`
//!   links; converting it to a lettre [`lettre::Message`] is the one place where header
//!   values are made safe (no CR/LF or other control character reaches a header).
//! * [`RenderCache`]: a wave's mails rendered once per language and kind, each recipient's
//!   name and links filled in (the same text as a full rendering).
//! * [`Mailer`]: SMTP (a small pool of lettre connections, a per-send timeout, a shared
//!   rate limit), `.eml` files in a folder (the default without `--smtp-url`, so a first
//!   run works), or memory (unit tests).
//! * [`SendError`]: `Transient` (try again later) or `Permanent` (retrying cannot help;
//!   [`SendError::suppresses_address`] says whether the recipient itself was refused).
//! * [`EmailSettings`]: the `--smtp-*` / `--mail-dir` options, parsed once at the edge.

mod locale;
mod message;
mod prerender;
mod settings;
mod templates;
mod transport;

pub use locale::MailLanguage;
pub use message::{EmailError, EmailMessage, ListUnsubscribe, MessageId, Recipient};
pub use prerender::RenderCache;
pub use settings::{EmailSettings, SmtpCredentials, SmtpSecurity, SmtpUrl};
pub use templates::{
    format_date, AnsweredEmail, EmailTemplate, FirstQuestion, ResultsReadyEmail,
    ResultsTooSmallEmail, SurveyEmail, SurveyEmailKind,
};
pub use transport::{
    FileMailer, Mailer, MemoryMailer, Rejected, RelayProblem, SendError, SentEmail, SmtpMailer,
};
