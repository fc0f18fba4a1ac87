//! Stored excerpts that were derived the way excerpts were before they kept
//! to prose (V14), derived anew.
//!
//! A post saved without an excerpt stores the derived one, so lists never
//! parse Markdown. The derivation changed with V14, and what Markdown says
//! cannot be worked out in SQL, so the migration step runs this once, right
//! after applying V14 (see `db::migrate`). An excerpt equal to the old
//! derivation of its post is taken as derived (the editor does the same).
//!
//! It is derived text, not an author's change, so like a read count it
//! writes no audit row and keeps the post's `updated_at`: a post does not
//! show as edited, nor move in the sitemap, because of it.

use tokio_postgres::Transaction;

use crate::content::markdown;

/// The migration after which excerpts are derived anew.
pub const DERIVED_ANEW_AFTER: &str = "V14__blog_search";

/// Posts with an excerpt and a body after the id $1, by id, 500 at a time.
pub const EXCERPT_CANDIDATES: &str = "SELECT id, content, excerpt, updated_at FROM posts \
     WHERE id > $1 AND content IS NOT NULL AND excerpt IS NOT NULL AND excerpt <> '' \
     ORDER BY id LIMIT 500";
/// Sets the excerpts ($2) of the posts $1 (the trigger moves `updated_at`).
pub const SET_EXCERPTS: &str = "UPDATE posts p SET excerpt = v.excerpt \
     FROM unnest($1::uuid[], $2::text[]) AS v(id, excerpt) WHERE p.id = v.id";
/// Puts back `updated_at` ($2) of the posts $1; changing only that column
/// fires no trigger.
pub const RESTORE_UPDATED_AT: &str = "UPDATE posts p SET updated_at = v.updated_at \
     FROM unnest($1::uuid[], $2::timestamptz[]) AS v(id, updated_at) WHERE p.id = v.id";

/// Every statement here, for the test that prepares them all.
pub const STATEMENTS: &[&str] = &[EXCERPT_CANDIDATES, SET_EXCERPTS, RESTORE_UPDATED_AT];

/// Derives anew every stored excerpt that equals the old derivation of
/// its post and differs from the current one; returns how many changed.
pub async fn derive_old_excerpts_anew(
    transaction: &Transaction<'_>,
) -> Result<u64, tokio_postgres::Error> {
    let (candidates, set, restore) = (
        transaction.prepare(EXCERPT_CANDIDATES).await?,
        transaction.prepare(SET_EXCERPTS).await?,
        transaction.prepare(RESTORE_UPDATED_AT).await?,
    );
    let mut after = uuid::Uuid::nil();
    let mut changed = 0;
    loop {
        let rows = transaction.query(&candidates, &[&after]).await?;
        let Some(last) = rows.last() else {
            return Ok(changed);
        };
        after = last.try_get(0)?;
        let (mut ids, mut excerpts, mut times) = (Vec::new(), Vec::new(), Vec::new());
        for row in &rows {
            let (content, excerpt): (String, String) = (row.try_get(1)?, row.try_get(2)?);
            if excerpt != markdown::excerpt_of_every_text(&content) {
                continue;
            }
            let derived = markdown::excerpt(&content);
            if derived != excerpt {
                ids.push(row.try_get::<_, uuid::Uuid>(0)?);
                excerpts.push(derived);
                times.push(row.try_get::<_, time::OffsetDateTime>(3)?);
            }
        }
        if !ids.is_empty() {
            changed += transaction.execute(&set, &[&ids, &excerpts]).await?;
            transaction.execute(&restore, &[&ids, &times]).await?;
        }
    }
}
