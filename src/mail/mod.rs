//! Outgoing mail: SMTP when configured (`SOLOIST_SMTP_URL`), otherwise the
//! development outbox, a table admins read in the browser, so a local user
//! can complete every flow without a mail server. The log names such mail
//! but never holds its body (its links sign in whoever opens them).

use std::time::Duration;

use deadpool_postgres::Pool;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub mod html;
pub mod messages;

/// One message: its text, and its HTML part when its templates made one
/// ([`messages`]; otherwise the HTML is rendered from the text, [`html`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
    /// The HTML part.
    pub html: Option<String>,
    /// The language it is written in (an HTML part made from the text
    /// speaks it too).
    pub language: crate::i18n::Language,
}

/// Where mail goes.
#[derive(Clone)]
pub enum Mailer {
    /// A real SMTP server.
    Smtp {
        /// The transport (pooled connections).
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// The From address.
        from: Mailbox,
    },
    /// The `mail_outbox` table.
    Outbox {
        /// The database.
        pool: Pool,
    },
}

/// Mail configuration errors.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The SMTP URL is not valid.
    #[error("SOLOIST_SMTP_URL is not valid: {0}")]
    Url(String),
    /// The From address is not valid.
    #[error("SOLOIST_MAIL_FROM is not a valid address: {0}")]
    From(String),
    /// Sending failed.
    #[error("sending mail failed: {0}")]
    Send(String),
}

impl Mailer {
    /// SMTP when `smtp_url` is set (`smtp://user:pass@host:587?tls=required`,
    /// `smtps://host:465`, or plain `smtp://host:25`), the outbox otherwise.
    pub fn new(smtp_url: Option<&str>, from: &str, pool: Pool) -> Result<Self, MailError> {
        let Some(url) = smtp_url else {
            return Ok(Self::Outbox { pool });
        };
        let from: Mailbox = from
            .parse()
            .map_err(|error: lettre::address::AddressError| MailError::From(error.to_string()))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|error| MailError::Url(error.to_string()))?
            .timeout(Some(Duration::from_secs(15)))
            .build();
        Ok(Self::Smtp { transport, from })
    }

    /// True when mail really leaves (SMTP), false for the outbox.
    pub fn sends(&self) -> bool {
        matches!(self, Self::Smtp { .. })
    }

    /// A short description for the boot output.
    pub fn describe(&self) -> &'static str {
        match self {
            Self::Smtp { .. } => "SMTP",
            Self::Outbox { .. } => {
                "development outbox (no SMTP configured; admins read it at /admin/outbox)"
            }
        }
    }

    /// Sends now and reports failure.
    pub async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        match self {
            Self::Smtp { transport, from } => {
                let to: Mailbox =
                    mail.to
                        .parse()
                        .map_err(|error: lettre::address::AddressError| {
                            MailError::Send(error.to_string())
                        })?;
                let message = compose(from, to, mail)?;
                transport
                    .send(message)
                    .await
                    .map_err(|error| MailError::Send(error.to_string()))?;
                Ok(())
            }
            Self::Outbox { pool } => {
                let client = pool
                    .get()
                    .await
                    .map_err(|error| MailError::Send(error.to_string()))?;
                client
                    .execute(
                        "INSERT INTO mail_outbox (to_address, subject, body) VALUES ($1, $2, $3)",
                        &[&mail.to, &mail.subject, &mail.body],
                    )
                    .await
                    .map_err(|error| MailError::Send(error.to_string()))?;
                // Never the body: its links sign in whoever reads the log.
                tracing::info!(to = %mail.to, subject = %mail.subject, "mail stored in the development outbox (not sent)");
                Ok(())
            }
        }
    }
}

/// The message as it goes out: a `Message-ID` at the sender's domain,
/// `Date`, `MIME-Version`, and `multipart/alternative` with the text and
/// its HTML rendering ([`html`]).
pub fn compose(from: &Mailbox, to: Mailbox, mail: &Mail) -> Result<Message, MailError> {
    let domain = from.email.domain().to_owned();
    let site_name = from.name.clone().unwrap_or_else(|| "Soloist".to_owned());
    let html = match &mail.html {
        Some(html) => html.clone(),
        None => {
            html::render(&site_name, mail).map_err(|error| MailError::Send(error.to_string()))?
        }
    };
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(&mail.subject)
        .message_id(Some(format!(
            "<{}@{domain}>",
            uuid::Uuid::new_v4().simple()
        )))
        .date_now()
        .multipart(lettre::message::MultiPart::alternative_plain_html(
            mail.body.clone(),
            html,
        ))
        .map_err(|error| MailError::Send(error.to_string()))
}

/// A stored outbox message.
#[derive(Clone, Debug)]
pub struct OutboxEntry {
    /// Recipient.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// When it was written.
    pub created_at: time::OffsetDateTime,
}

const RECENT_OUTBOX: &str = "SELECT to_address, subject, body, created_at FROM mail_outbox \
     ORDER BY created_at DESC LIMIT $1";

/// Statements of the outbox, for the test that prepares them all.
pub const STATEMENTS: &[&str] = &[RECENT_OUTBOX];

/// The newest outbox messages.
pub async fn recent_outbox(
    client: &impl deadpool_postgres::GenericClient,
    limit: i64,
) -> Result<Vec<OutboxEntry>, crate::db::StoreError> {
    let statement = client.prepare_cached(RECENT_OUTBOX).await?;
    client
        .query(&statement, &[&limit])
        .await?
        .iter()
        .map(|row| {
            Ok(OutboxEntry {
                to: row.try_get(0)?,
                subject: row.try_get(1)?,
                body: row.try_get(2)?,
                created_at: row.try_get(3)?,
            })
        })
        .collect()
}
