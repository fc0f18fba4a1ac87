//! The demo people, with their profiles, subscriptions and payments.

use crate::accounts::model::Theme;
use crate::billing::model::{PaymentStatus, SubscriptionStatus};

/// A payment in a subscriber's history.
pub struct DemoPayment {
    pub days_ago: i64,
    pub status: PaymentStatus,
    pub description: &'static str,
}

/// A subscriber's plan and history. Day counts are relative to the seeding
/// day; negative means in the future.
pub struct DemoSubscription {
    pub plan: &'static str,
    pub status: SubscriptionStatus,
    pub started_days_ago: i64,
    pub period_start_days_ago: Option<i64>,
    pub period_end_days_ago: Option<i64>,
    pub trial_end_days_ago: Option<i64>,
    pub canceled_days_ago: Option<i64>,
    pub payments: &'static [DemoPayment],
}

/// A person with a profile (the demo users have no password: sign in as
/// one with a magic link, which lands in `/admin/outbox` without SMTP).
pub struct DemoUser {
    pub email: &'static str,
    pub name: &'static str,
    pub bio: &'static str,
    pub website: Option<&'static str>,
    pub location: &'static str,
    pub timezone: &'static str,
    pub language: &'static str,
    pub theme: Theme,
    pub subscription: Option<DemoSubscription>,
}

const fn paid(days_ago: i64, description: &'static str) -> DemoPayment {
    DemoPayment {
        days_ago,
        status: PaymentStatus::Succeeded,
        description,
    }
}
pub const USERS: &[DemoUser] = &[
    DemoUser {
        email: "maya.chen@example.com",
        name: "Maya Chen",
        bio: "Founder and lead engineer. Writes about Rust, PostgreSQL and shipping small.",
        website: Some("https://example.com/maya"),
        location: "Lisbon, Portugal",
        timezone: "Europe/Lisbon",
        language: "en",
        theme: Theme::System,
        subscription: Some(DemoSubscription {
            plan: "Pro",
            status: SubscriptionStatus::Active,
            started_days_ago: 75,
            period_start_days_ago: Some(15),
            period_end_days_ago: Some(-15),
            trial_end_days_ago: None,
            canceled_days_ago: None,
            payments: &[
                paid(75, "Pro, monthly"),
                paid(45, "Pro, monthly"),
                paid(15, "Pro, monthly"),
            ],
        }),
    },
    DemoUser {
        email: "jonas.weber@example.com",
        name: "Jonas Weber",
        bio: "Product designer. Cares about forms that forgive and pages that load before you blink.",
        website: Some("https://example.com/jonas"),
        location: "Berlin, Germany",
        timezone: "Europe/Berlin",
        language: "de",
        theme: Theme::Dark,
        subscription: Some(DemoSubscription {
            plan: "Team",
            status: SubscriptionStatus::Active,
            started_days_ago: 200,
            period_start_days_ago: Some(200),
            period_end_days_ago: Some(-165),
            trial_end_days_ago: None,
            canceled_days_ago: None,
            payments: &[paid(200, "Team, yearly")],
        }),
    },
    DemoUser {
        email: "amara.okafor@example.com",
        name: "Amara Okafor",
        bio: "Support lead. Turns the questions customers ask twice into guides.",
        website: None,
        location: "Lagos, Nigeria",
        timezone: "Africa/Lagos",
        language: "en",
        theme: Theme::Light,
        // Trialing: Stripe's "trialing" is stored as active with trial_end.
        subscription: Some(DemoSubscription {
            plan: "Pro",
            status: SubscriptionStatus::Active,
            started_days_ago: 4,
            period_start_days_ago: Some(4),
            period_end_days_ago: Some(-10),
            trial_end_days_ago: Some(-10),
            canceled_days_ago: None,
            payments: &[],
        }),
    },
    DemoUser {
        email: "lucas.martin@example.com",
        name: "Lucas Martin",
        bio: "Runs operations: backups, upgrades and the 3 a.m. pager.",
        website: Some("https://example.com/lucas"),
        location: "Montréal, Canada",
        timezone: "America/Toronto",
        language: "fr",
        theme: Theme::System,
        subscription: Some(DemoSubscription {
            plan: "Pro",
            status: SubscriptionStatus::PastDue,
            started_days_ago: 95,
            period_start_days_ago: Some(5),
            period_end_days_ago: Some(-25),
            trial_end_days_ago: None,
            canceled_days_ago: None,
            payments: &[
                paid(95, "Pro, monthly"),
                paid(65, "Pro, monthly"),
                paid(35, "Pro, monthly"),
                DemoPayment {
                    days_ago: 5,
                    status: PaymentStatus::Failed,
                    description: "Pro, monthly (card declined)",
                },
            ],
        }),
    },
    DemoUser {
        email: "sofia.rossi@example.com",
        name: "Sofia Rossi",
        bio: "Freelance writer. Tried Pro for a month, went back to paper notebooks.",
        website: None,
        location: "Milan, Italy",
        timezone: "Europe/Rome",
        language: "it",
        theme: Theme::Light,
        subscription: Some(DemoSubscription {
            plan: "Pro",
            status: SubscriptionStatus::Canceled,
            started_days_ago: 60,
            period_start_days_ago: Some(30),
            period_end_days_ago: Some(0),
            trial_end_days_ago: None,
            canceled_days_ago: Some(12),
            payments: &[
                paid(60, "Pro, monthly"),
                DemoPayment {
                    days_ago: 30,
                    status: PaymentStatus::Refunded,
                    description: "Pro, monthly (refunded on request)",
                },
            ],
        }),
    },
    DemoUser {
        email: "priya.nair@example.com",
        name: "Priya Nair",
        bio: "Keeps a reading list and a very small blog.",
        website: None,
        location: "Bengaluru, India",
        timezone: "Asia/Kolkata",
        language: "en",
        theme: Theme::Dark,
        subscription: Some(DemoSubscription {
            plan: "Free",
            status: SubscriptionStatus::Active,
            started_days_ago: 20,
            period_start_days_ago: Some(20),
            period_end_days_ago: None,
            trial_end_days_ago: None,
            canceled_days_ago: None,
            payments: &[],
        }),
    },
    DemoUser {
        email: "daniel.kim@example.com",
        name: "Daniel Kim",
        bio: "Reads everything, subscribes to nothing.",
        website: None,
        location: "Seattle, USA",
        timezone: "America/Los_Angeles",
        language: "en",
        theme: Theme::System,
        subscription: None,
    },
];
