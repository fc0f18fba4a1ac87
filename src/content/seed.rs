//! Generated content for large data sets (benchmarks, `soloist seed
//! --users N --posts M`): writers, categories, tags and posts with
//! realistic Markdown, made with set-based SQL in one transaction. Running
//! it again adds nothing that exists already.

use deadpool_postgres::GenericClient;

use crate::db::StoreError;

const CATEGORIES: &[(&str, &str, &str)] = &[
    ("Engineering", "engineering", "#6366f1"),
    ("Product", "product", "#0ea5e9"),
    ("Design", "design", "#ec4899"),
    ("Company", "company", "#f59e0b"),
    ("Guides", "guides", "#10b981"),
    ("Releases", "releases", "#8b5cf6"),
    ("Customers", "customers", "#ef4444"),
    ("Operations", "operations", "#64748b"),
];

const TAGS: &[&str] = &[
    "rust",
    "postgresql",
    "performance",
    "security",
    "billing",
    "onboarding",
    "design systems",
    "accessibility",
    "testing",
    "deployment",
    "backups",
    "monitoring",
    "pricing",
    "growth",
    "support",
    "api",
    "webhooks",
    "search",
    "markdown",
    "caching",
    "self-hosting",
    "privacy",
    "open source",
    "roadmap",
    "changelog",
    "hiring",
    "remote work",
    "metrics",
    "sql",
    "linux",
];

/// The Markdown body of generated post `n` (about 2 KB).
const BODY: &str = "'## What we set out to do\n\n' \
    || 'Post ' || n || ' looks at how a small team ships a product that people rely on. ' \
    || 'We wanted fewer moving parts, faster pages and a database we understand.\n\n' \
    || '- Keep the **hot path** short\n- Measure before changing anything\n- Write down what we learned\n\n' \
    || '### The numbers\n\n| measure | before | after |\n|---|---|---|\n| p99 | 48 ms | ' || (n % 40 + 5) || ' ms |\n| errors | 0.4% | 0.0% |\n\n' \
    || '```sql\nSELECT id, title FROM posts WHERE status = ''published'' ORDER BY published_at DESC LIMIT 20;\n```\n\n' \
    || repeat('Most of the work was reading what the system already did and removing what it did not need. ' \
              || 'Every change came with a benchmark and a test that would fail without it. ', 6) \
    || '\n\n> Simple things, done carefully, compound.\n\nRead more in the [guides](/categories/guides).'";

/// Adds `users` writers and `posts` posts (90% published, 7% drafts, 3%
/// archived, one in 50 featured), each with a category and three tags.
pub async fn generate(
    client: &impl GenericClient,
    users: i32,
    posts: i32,
) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO users (email, name, email_verified) \
             SELECT 'writer-' || n || '@example.com', 'Writer ' || n, true \
             FROM generate_series(1, $1) n ON CONFLICT (email) DO NOTHING",
            &[&users],
        )
        .await?;
    for (name, slug, color) in CATEGORIES {
        client
            .execute(
                "INSERT INTO categories (name, slug, color, sort_order) \
                 VALUES ($1, $2, $3, (SELECT count(*) FROM categories)) ON CONFLICT DO NOTHING",
                &[name, slug, color],
            )
            .await?;
    }
    for name in TAGS {
        let slug = crate::content::slug::Slug::from_title(name, "tag").into_string();
        client
            .execute(
                "INSERT INTO tags (name, slug) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[name, &slug],
            )
            .await?;
    }
    let insert_posts = format!(
        "WITH writers AS (SELECT array_agg(id ORDER BY email) AS ids FROM users WHERE email LIKE 'writer-%@example.com'), \
              kinds AS (SELECT array_agg(id ORDER BY sort_order, name) AS ids FROM categories) \
         INSERT INTO posts (user_id, title, slug, content, excerpt, status, featured, published_at, category_id, created_at) \
         SELECT writers.ids[1 + n % cardinality(writers.ids)], \
                'Notes on shipping, part ' || n, 'notes-on-shipping-' || n, {BODY}, \
                'How a small team ships part ' || n || ': fewer moving parts, faster pages, and a database we understand.', \
                CASE WHEN n % 100 < 90 THEN 'published' WHEN n % 100 < 97 THEN 'draft' ELSE 'archived' END, \
                n % 50 = 0, \
                CASE WHEN n % 100 < 90 OR n % 100 >= 97 THEN now() - make_interval(mins => $1 - n) END, \
                kinds.ids[1 + n % cardinality(kinds.ids)], \
                now() - make_interval(mins => $1 - n) \
         FROM generate_series(1, $1) n, writers, kinds \
         ON CONFLICT (slug) DO NOTHING"
    );
    client.execute(&insert_posts, &[&posts]).await?;
    // One set-based count instead of the trigger's update per link: 30,000
    // updates of 30 tag rows would leave 30,000 dead row versions behind.
    // (The trigger is off only inside this transaction, which holds
    // post_tags' lock until it commits.)
    client
        .batch_execute("ALTER TABLE post_tags DISABLE TRIGGER post_tags_count_usage")
        .await?;
    client
        .execute(
            "WITH numbered AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM tags), \
                  total AS (SELECT count(*) AS c FROM tags) \
             INSERT INTO post_tags (post_id, tag_id) \
             SELECT p.id, t.id FROM posts p \
             CROSS JOIN generate_series(0, 2) k \
             CROSS JOIN total \
             JOIN numbered t ON t.n = 1 + (abs(hashtext(p.slug)) + k * 7) % total.c \
             WHERE p.slug LIKE 'notes-on-shipping-%' \
             ON CONFLICT DO NOTHING",
            &[],
        )
        .await?;
    // ALTER TABLE is transactional, but a disabled trigger stays disabled
    // once this commits: count, then switch it back on.
    client
        .batch_execute(
            "UPDATE tags SET usage_count = (SELECT count(*) FROM post_tags WHERE post_tags.tag_id = tags.id); \
             ALTER TABLE post_tags ENABLE TRIGGER post_tags_count_usage",
        )
        .await?;
    client
        .batch_execute("ANALYZE users, posts, tags, post_tags, categories")
        .await?;
    Ok(())
}
