//! The demo categories and posts.

use crate::content::model::PostStatus;

/// (name, slug, description, colour, sort order).
pub const CATEGORIES: &[(&str, &str, &str, &str, i32)] = &[
    (
        "Engineering",
        "engineering",
        "How the product is built and run.",
        "#6366f1",
        0,
    ),
    ("Product", "product", "What we ship and why.", "#0ea5e9", 1),
    (
        "Guides",
        "guides",
        "Step-by-step help for common tasks.",
        "#10b981",
        2,
    ),
    ("Company", "company", "News from the team.", "#f59e0b", 3),
];

/// A post and where it sits.
pub struct DemoPost {
    pub author: &'static str,
    pub title: &'static str,
    pub slug: &'static str,
    pub category: &'static str,
    pub tags: &'static [&'static str],
    pub status: PostStatus,
    pub featured: bool,
    pub days_ago: i64,
    pub views: i32,
    pub content: &'static str,
}

pub const POSTS: &[DemoPost] = &[
    DemoPost {
        author: "maya.chen@example.com",
        title: "One binary, one database, zero pagers",
        slug: "one-binary-one-database-zero-pagers",
        category: "engineering",
        tags: &["rust", "postgresql", "self-hosting"],
        status: PostStatus::Published,
        featured: true,
        days_ago: 2,
        views: 1840,
        content: "We used to run seven services to put a blog and a billing page on the internet. \
Today it is one binary that carries its own PostgreSQL.\n\n\
## What we removed\n\n\
- a separate session store (sessions live in PostgreSQL)\n\
- a job queue for two jobs a day\n\
- a cache in front of pages that take **two milliseconds** to render\n\n\
## What we kept\n\n\
PostgreSQL. It does transactions, full-text search, advisory locks and \
partitioning, and it has done them well for decades.\n\n\
```sh\n\
soloist serve   # unpacks PostgreSQL, migrates, serves\n\
```\n\n\
> The cheapest service to operate is the one you never deployed.\n\n\
Next week: how we back it up. Until then, the [guides](/categories/guides) cover the first hour.\n",
    },
    DemoPost {
        author: "jonas.weber@example.com",
        title: "Designing a pricing page people trust",
        slug: "designing-a-pricing-page-people-trust",
        category: "product",
        tags: &["pricing", "design systems", "accessibility"],
        status: PostStatus::Published,
        featured: true,
        days_ago: 5,
        views: 962,
        content: "A pricing page has one job: let someone decide in under a minute.\n\n\
## Three plans, not five\n\n\
Free, Pro and Team cover almost everyone. A fourth column mostly adds doubt.\n\n\
## Say the price once\n\n\
| plan | price | for |\n\
|---|---|---|\n\
| Free | $0 | trying it out |\n\
| Pro | $15 / month | one writer |\n\
| Team | $1,200 / year | a small team |\n\n\
## Write features as outcomes\n\n\
\"Featured posts\" beats \"Homepage promotion module\". Every line on the card \
should be something a customer would say out loud.\n\n\
Finally: check the page with a screen reader. Prices read as \"dollar fifteen slash month\" \
are not a great experience.\n",
    },
    DemoPost {
        author: "amara.okafor@example.com",
        title: "Your first hour with Soloist",
        slug: "your-first-hour-with-soloist",
        category: "guides",
        tags: &["onboarding", "deployment"],
        status: PostStatus::Published,
        featured: false,
        days_ago: 9,
        views: 2311,
        content: "This guide takes you from download to a working site.\n\n\
1. Download the binary and run `soloist`.\n\
2. Open the address it prints and create the first administrator at `/setup`.\n\
3. Write a post at `/posts/new`. Markdown works, and the preview shows what readers will see.\n\
4. Add your plans in **Admin → Plans**.\n\n\
### Taking payments\n\n\
Set `SOLOIST_STRIPE_SECRET_KEY` and `SOLOIST_STRIPE_WEBHOOK_SECRET`, then paste each plan's \
Stripe Price id. Until then, admins can give plans by hand.\n\n\
### Stuck?\n\n\
Write to support and tell us what you expected to happen. We answer within a working day.\n",
    },
    DemoPost {
        author: "lucas.martin@example.com",
        title: "Backups you have actually restored",
        slug: "backups-you-have-actually-restored",
        category: "engineering",
        tags: &["backups", "postgresql", "monitoring"],
        status: PostStatus::Published,
        featured: false,
        days_ago: 14,
        views: 708,
        content: "A backup you have never restored is a hope, not a backup.\n\n\
## The routine\n\n\
Every night we take a dump, copy it off the machine, and once a week we restore \
the latest one into a scratch database and run the test suite against it.\n\n\
```sh\n\
pg_dump --format=custom --file=nightly.dump \"$(soloist db url)\"\n\
pg_restore --dbname=scratch nightly.dump\n\
```\n\n\
## What we watch\n\n\
- the size of the dump (a sudden drop means something is wrong)\n\
- how long the restore takes\n\
- that the newest row in `audit_logs` is from last night\n",
    },
    DemoPost {
        author: "maya.chen@example.com",
        title: "Webhooks that arrive twice, late, or out of order",
        slug: "webhooks-that-arrive-twice-late-or-out-of-order",
        category: "engineering",
        tags: &["webhooks", "billing", "testing"],
        status: PostStatus::Published,
        featured: false,
        days_ago: 21,
        views: 1275,
        content: "Stripe promises to deliver each event *at least* once. Plan for more.\n\n\
## Record the event in the transaction of its effect\n\n\
```sql\n\
INSERT INTO stripe_events (id, type, object_id, event_created)\n\
VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING RETURNING id;\n\
```\n\n\
If the insert returns nothing, the event was seen before and we answer 200 without touching anything.\n\n\
## Never let an older event win\n\n\
Each subscription remembers the creation time of the newest event applied to it. An older \
event that arrives late is acknowledged and ignored.\n\n\
We test every order of a subscription's lifecycle events, and ten concurrent deliveries of the same one.\n",
    },
    DemoPost {
        author: "jonas.weber@example.com",
        title: "What we shipped in spring",
        slug: "what-we-shipped-in-spring",
        category: "company",
        tags: &["changelog", "roadmap"],
        status: PostStatus::Published,
        featured: false,
        days_ago: 34,
        views: 433,
        content: "A short tour of the season's releases.\n\n\
- **Audit trail** with filters, a before/after view and CSV export\n\
- **Magic links** for signing in without a password\n\
- **Dark mode** that follows your device\n\
- **Search** that ranks titles above body text\n\n\
Thank you to everyone who wrote in with bugs and ideas. Keep them coming.\n",
    },
    DemoPost {
        author: "maya.chen@example.com",
        title: "Draft: sharding is a last resort",
        slug: "sharding-is-a-last-resort",
        category: "engineering",
        tags: &["postgresql", "performance"],
        status: PostStatus::Draft,
        featured: false,
        days_ago: 1,
        views: 0,
        content: "Notes for a future post.\n\n\
- measure first: most slow pages are one missing index\n\
- a bigger machine is cheaper than a distributed system\n\
- read replicas before shards\n",
    },
    DemoPost {
        author: "amara.okafor@example.com",
        title: "Draft: answering billing questions",
        slug: "answering-billing-questions",
        category: "guides",
        tags: &["billing", "support"],
        status: PostStatus::Draft,
        featured: false,
        days_ago: 3,
        views: 0,
        content: "Outline:\n\n1. Where to find invoices\n2. Changing plans mid-period\n3. Refunds\n",
    },
    DemoPost {
        author: "jonas.weber@example.com",
        title: "Our old style guide",
        slug: "our-old-style-guide",
        category: "product",
        tags: &["design systems"],
        status: PostStatus::Archived,
        featured: false,
        days_ago: 180,
        views: 219,
        content: "This guide has been replaced by the design system documentation.\n\n\
It is kept here for reference: use sentence case, avoid exclamation marks, and \
never put two primary buttons side by side.\n",
    },
];
