//! The first steps an administrator takes after the setup, as a checklist
//! on the overview (and a line on the home page) until every one is done.

use deadpool_postgres::GenericClient;

use crate::db::StoreError;
use crate::web::AppState;

/// One step of the checklist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// What to do.
    pub title: &'static str,
    /// How, in a sentence.
    pub how: &'static str,
    /// Where it is done (or explained).
    pub href: &'static str,
    /// The link's words.
    pub action: &'static str,
    /// Done already.
    pub done: bool,
}

/// The checklist.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FirstSteps {
    /// The steps, in the order to take them.
    pub steps: Vec<Step>,
}

impl FirstSteps {
    /// The checklist as this site stands.
    pub async fn of(state: &AppState, client: &impl GenericClient) -> Result<Self, StoreError> {
        let named = state.site_settings.get(&state.pool).await.saved();
        let written = super::store::any_post(client).await?;
        Ok(Self {
            steps: vec![
                Step {
                    title: "Name your site",
                    how: "Give it a name, a tagline and a colour; visitors see them on every page.",
                    href: super::paths::SETTINGS,
                    action: "Open the settings",
                    done: named,
                },
                Step {
                    title: "Write your first post",
                    how: "Posts are written in Markdown and appear on the blog and the home page.",
                    href: crate::content::paths::NEW_POST,
                    action: "Write a post",
                    done: written,
                },
                Step {
                    title: "Send mail through your SMTP server",
                    how: "Until SOLOIST_SMTP_URL (or smtp_url in the [mail] table of soloist.toml) is set, \
                          sign-up and sign-in mail waits in the development outbox.",
                    href: crate::accounts::paths::OUTBOX,
                    action: "See the outbox",
                    done: state.mailer.sends(),
                },
                Step {
                    title: "Connect Stripe",
                    how: "Set SOLOIST_STRIPE_SECRET_KEY and SOLOIST_STRIPE_WEBHOOK_SECRET, then give \
                          your plans their Stripe prices, to take payments.",
                    href: crate::billing::paths::PLANS,
                    action: "See the plans",
                    done: state.stripe_client.is_some(),
                },
            ],
        })
    }

    /// Steps done.
    pub fn done(&self) -> usize {
        self.steps.iter().filter(|step| step.done).count()
    }

    /// Every step is done.
    pub fn complete(&self) -> bool {
        self.steps.iter().all(|step| step.done)
    }
}
