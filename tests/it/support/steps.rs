//! The steps a person takes through the app's forms, as `TestApp` methods,
//! so a test reads as the flow it checks: `app.sign_up(..)`, then
//! `app.verify(..)` with the mailed token, then `app.sign_in(..)`.
//!
//! The `post` steps return the answer without judging it, for tests that
//! check it; the others assert that the step worked.

use std::time::Duration;

use reqwest::StatusCode;

use super::app::TestApp;
use crate::smtp::SmtpSink;

/// The password of the accounts these steps make.
pub const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    /// Fills in and sends the sign-up form in `browser`.
    pub async fn sign_up(
        &self,
        browser: &reqwest::Client,
        name: &str,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        self.post_form(
            browser,
            "/sign-up",
            "/sign-up",
            &[("name", name), ("email", email), ("password", password)],
        )
        .await
    }

    /// Presses "Confirm my email" on the page of a mailed confirmation link
    /// with `token`.
    pub async fn verify(&self, browser: &reqwest::Client, token: &str) -> reqwest::Response {
        self.post_form(
            browser,
            "/verify-email",
            "/verify-email",
            &[("token", token)],
        )
        .await
    }

    /// Fills in and sends the sign-in form in `browser`.
    pub async fn sign_in(
        &self,
        browser: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        self.post_form(
            browser,
            "/sign-in",
            "/sign-in",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// Signs up `email` in `browser`, waits for the confirmation mail in
    /// `sink` and confirms it: the browser ends up signed in.
    pub async fn sign_up_and_verify(
        &self,
        sink: &SmtpSink,
        browser: &reqwest::Client,
        name: &str,
        email: &str,
        password: &str,
    ) {
        let mails_before = sink.count_to(email);
        let response = self.sign_up(browser, name, email, password).await;
        assert_eq!(response.status(), StatusCode::OK, "signing up {email}");
        let mail = sink.wait_for(email, mails_before + 1).await;
        let confirm = self.verify(browser, &mail.token()).await;
        assert_eq!(
            confirm.status(),
            StatusCode::SEE_OTHER,
            "{}",
            confirm.text().await.unwrap()
        );
    }

    /// Makes a verified account `email` that signs in with [`PASSWORD`] (an
    /// admin when `admin`), the way `soloist admin create` makes one.
    pub async fn create_account(&self, email: &str, name: &str, admin: bool) {
        use soloist::accounts::secrets::{Password, PasswordHasherPool};
        let hasher = PasswordHasherPool::new(1).unwrap();
        let password = Password::new(PASSWORD, &[]).unwrap();
        soloist::accounts::admin::create_admin(
            &self.soloist.pool,
            &hasher,
            email,
            name,
            Some(&password),
        )
        .await
        .unwrap();
        if !admin {
            self.sql()
                .await
                .execute("UPDATE users SET role = 'user' WHERE email = $1", &[&email])
                .await
                .unwrap();
        }
    }

    /// A browser signed in as a new verified account `email` (an admin when
    /// `admin`), made by [`TestApp::create_account`].
    pub async fn signed_in_as(&self, email: &str, name: &str, admin: bool) -> reqwest::Client {
        self.create_account(email, name, admin).await;
        let browser = self.new_browser();
        let response = self.sign_in(&browser, email, PASSWORD).await;
        assert_eq!(response.status(), 303, "signing in {email}");
        browser
    }

    /// The token of the newest mail to `email` in the development outbox,
    /// once there is one (mail is written after the answer).
    pub async fn outbox_token(&self, email: &str) -> String {
        let sql = self.sql().await;
        for _ in 0..100 {
            let newest = sql
                .query_opt(
                    "SELECT body FROM mail_outbox WHERE to_address = $1 \
                     ORDER BY created_at DESC LIMIT 1",
                    &[&email],
                )
                .await
                .unwrap();
            if let Some(row) = newest {
                let body: String = row.get(0);
                return body
                    .split("token=")
                    .nth(1)
                    .unwrap()
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .to_owned();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no mail to {email} in the outbox");
    }

    /// Saves a new post through the editor and returns its id.
    pub async fn write_post(&self, browser: &reqwest::Client, fields: &[(&str, &str)]) -> String {
        let response = self
            .post_form(browser, "/posts/new", "/posts", fields)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "{}",
            response.text().await.unwrap()
        );
        let to = location(&response);
        to.trim_start_matches("/posts/")
            .split('/')
            .next()
            .unwrap()
            .to_owned()
    }

    /// Sends the status form of post `id` (from its editor).
    pub async fn set_status(
        &self,
        browser: &reqwest::Client,
        id: &str,
        status: &str,
    ) -> reqwest::Response {
        self.post_form(
            browser,
            &format!("/posts/{id}/edit"),
            &format!("/posts/{id}/status"),
            &[("status", status)],
        )
        .await
    }

    /// Publishes post `id`.
    pub async fn publish(&self, browser: &reqwest::Client, id: &str) {
        let response = self.set_status(browser, id, "published").await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }

    /// The one `bigint` a query such as `SELECT count(*) ...` returns.
    pub async fn count(&self, sql: &str) -> i64 {
        self.sql().await.query_one(sql, &[]).await.unwrap().get(0)
    }
}

/// Where a redirect leads.
pub fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}
