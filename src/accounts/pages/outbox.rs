//! `GET /admin/outbox`: the development outbox, mail that would have been sent
//! (for admins, with the links' tokens masked).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::web::AppState;
use crate::web::access::Admin;
use crate::web::local_time::LocalTimes;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};

/// An outbox message as shown.
#[derive(Clone, Debug)]
pub struct OutboxMessage {
    /// Recipient.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// When.
    pub sent: String,
}

/// `GET /admin/outbox`.
#[derive(Template)]
#[template(path = "admin/outbox.html")]
pub struct OutboxPage {
    /// The layout.
    pub layout: Layout,
    /// Newest first.
    pub messages: Vec<OutboxMessage>,
    /// Mail is sent over SMTP (the outbox only holds older mail).
    pub mail_sent: bool,
    /// Only this machine reaches the site: every message is shown whole.
    pub local_only: bool,
}

/// Hides the tokens of a message's links (`token=...`), so that reading
/// someone else's mail in the outbox does not let an admin into their
/// account.
fn mask_tokens(body: &str) -> String {
    let mut masked = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find("token=") {
        let (before, after) = rest.split_at(at + "token=".len());
        masked.push_str(before);
        let end = after
            .find(|character: char| character.is_whitespace() || character == '&')
            .unwrap_or(after.len());
        if end > 0 {
            masked.push_str("[hidden]");
        }
        rest = &after[end..];
    }
    masked.push_str(rest);
    masked
}

/// `GET /admin/outbox` (admins only). Each
/// admin reads their own mail whole; the links in anyone else's are
/// masked, unless only this machine can reach the site.
pub async fn outbox(
    Admin {
        visitor,
        signed_in: admin,
    }: Admin,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let client = state.pool.get().await?;
    let entries = crate::mail::recent_outbox(&client, 100).await?;
    let times = LocalTimes::load(
        &client,
        &admin.timezone,
        entries.iter().map(|entry| entry.created_at),
    )
    .await?;
    let when = |moment| times.show(moment);
    let messages = entries
        .into_iter()
        .map(|entry| {
            let whole = state.local_only || entry.to.eq_ignore_ascii_case(&admin.user.email);
            OutboxMessage {
                body: if whole {
                    entry.body
                } else {
                    mask_tokens(&entry.body)
                },
                to: entry.to,
                subject: entry.subject,
                sent: when(entry.created_at),
            }
        })
        .collect();
    let page = OutboxPage {
        layout: Layout::for_visitor(
            &visitor,
            "Development outbox",
            "Mail written while no SMTP server is set.",
        ),
        messages,
        mail_sent: state.mailer.sends(),
        local_only: state.local_only,
    };
    Ok(render(&page, StatusCode::OK))
}

#[cfg(test)]
mod tests {
    use super::mask_tokens;

    #[test]
    fn outbox_links_lose_their_tokens_and_keep_the_rest() {
        assert_eq!(
            mask_tokens("Open:\n\nhttps://site.example/verify-email?token=abc_DEF-123\n\nThanks"),
            "Open:\n\nhttps://site.example/verify-email?token=[hidden]\n\nThanks"
        );
        assert_eq!(
            mask_tokens("a ?token=x&next=/ b token=y"),
            "a ?token=[hidden]&next=/ b token=[hidden]"
        );
        assert_eq!(mask_tokens("no links"), "no links");
    }
}
