//! The demo plans.

use crate::billing::model::PlanInterval;

/// A plan on the pricing page.
pub struct DemoPlan {
    pub name: &'static str,
    pub description: &'static str,
    pub price_cents: i32,
    pub interval: PlanInterval,
    pub features: &'static [&'static str],
    pub sort_order: i32,
}

/// Free, Pro (monthly) and Team (yearly: the admin's MRR counts a twelfth).
pub const PLANS: &[DemoPlan] = &[
    DemoPlan {
        name: "Free",
        description: "For personal blogs and trying things out.",
        price_cents: 0,
        interval: PlanInterval::Month,
        features: &[
            "Unlimited public posts",
            "Markdown editor with preview",
            "Atom feed and sitemap",
        ],
        sort_order: 0,
    },
    DemoPlan {
        name: "Pro",
        description: "For writers who publish every week.",
        price_cents: 1500,
        interval: PlanInterval::Month,
        features: &[
            "Everything in Free",
            "Featured posts",
            "Priority email support",
        ],
        sort_order: 1,
    },
    DemoPlan {
        name: "Team",
        description: "For small teams sharing one site, billed once a year.",
        price_cents: 120_000,
        interval: PlanInterval::Year,
        features: &[
            "Everything in Pro",
            "Up to 10 writers",
            "Audit trail export (CSV)",
            "Onboarding call",
        ],
        sort_order: 2,
    },
];
