//! SQL for the search page beyond the results themselves (those are
//! [`super::SEARCH`]): highlighted snippets, "did you mean" words, and the
//! tags and categories to browse instead.

use deadpool_postgres::GenericClient;
use tokio_postgres::error::SqlState;

use crate::content::model::TagLink;
use crate::db::StoreError;

/// For each (title, plain body) of $1 and $2, the title with every match
/// marked and the best fragments of the body (all of a short body), for the `to_tsquery` text $3
/// (options $4 for titles, $5 for bodies). The words are read as written
/// ('simple'): the stems of the 'english' half of the query are prefixes of
/// most of the words they stand for, so both halves mark what they found.
pub(super) const HEADLINES: &str = "SELECT ts_headline('simple', d.title, q, $4), \
            ts_headline('simple', d.body, q, CASE WHEN length(d.body) <= 240 THEN $4 ELSE $5 END) \
       FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS d(title, body, n), \
            (SELECT to_tsquery('english', $3) || to_tsquery('simple', $3)) AS query(q) \
      ORDER BY d.n";

/// For each word of $1 (in order), a replacement when the word finds no
/// published post on its own: the most similar word (trigram similarity
/// of at least 0.3) of the 20 published titles nearest to it (through
/// `posts_title_trgm_idx`), of tag names in use and of active category
/// names. NULL when the word finds posts or nothing is similar.
/// Needs pg_trgm (see V14).
pub(super) const SIMILAR_WORDS: &str = "SELECT best.candidate \
       FROM unnest($1::text[]) WITH ORDINALITY AS w(word, n) \
       LEFT JOIN LATERAL ( \
            SELECT c.candidate FROM ( \
                SELECT regexp_split_to_table(lower(p.title), '[^[:alnum:]]+') AS candidate \
                  FROM (SELECT title FROM posts WHERE status = 'published' \
                         ORDER BY lower(title) <->> w.word LIMIT 20) p \
                UNION SELECT regexp_split_to_table(lower(t.name), '[^[:alnum:]]+') \
                  FROM tags t WHERE coalesce(t.usage_count, 0) > 0 \
                UNION SELECT regexp_split_to_table(lower(k.name), '[^[:alnum:]]+') \
                  FROM categories k WHERE coalesce(k.is_active, true) \
            ) c \
            WHERE c.candidate <> '' AND c.candidate <> w.word \
              AND similarity(c.candidate, w.word) >= 0.3 \
              AND NOT EXISTS (SELECT 1 FROM posts WHERE status = 'published' \
                    AND search_vector @@ (to_tsquery('english', quote_literal(w.word) || ':*') \
                        || to_tsquery('simple', quote_literal(w.word) || ':*'))) \
            ORDER BY similarity(c.candidate, w.word) DESC, c.candidate LIMIT 1 \
       ) best ON true \
      ORDER BY w.n";

/// The most used tags of published posts.
pub(super) const POPULAR_TAGS: &str = "SELECT t.name, t.slug FROM tags t \
      WHERE coalesce(t.usage_count, 0) > 0 AND EXISTS (SELECT 1 FROM post_tags pt \
            JOIN posts p ON p.id = pt.post_id WHERE pt.tag_id = t.id AND p.status = 'published') \
      ORDER BY t.usage_count DESC, t.name LIMIT $1";

/// Active categories with a published post, in their order.
pub(super) const BROWSABLE_CATEGORIES: &str = "SELECT c.name, c.slug FROM categories c \
      WHERE coalesce(c.is_active, true) AND EXISTS (SELECT 1 FROM posts p \
            WHERE p.category_id = c.id AND p.status = 'published') \
      ORDER BY c.sort_order, c.name LIMIT $1";

/// (title, body) highlighted by `ts_headline` for each (title, plain body),
/// in order: the text with [`crate::content::search::MARK_START`] and
/// `MARK_STOP` around matches, not escaped.
pub async fn headlines(
    client: &impl GenericClient,
    documents: &[(String, String)],
    tsquery: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    use crate::content::search::{HEADLINE_OPTIONS, TITLE_HEADLINE_OPTIONS};
    let (titles, bodies): (Vec<&str>, Vec<&str>) = documents
        .iter()
        .map(|(title, body)| (title.as_str(), body.as_str()))
        .unzip();
    let statement = client.prepare_cached(HEADLINES).await?;
    client
        .query(
            &statement,
            &[
                &titles,
                &bodies,
                &tsquery,
                &TITLE_HEADLINE_OPTIONS,
                &HEADLINE_OPTIONS,
            ],
        )
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
}

/// A replacement for each of `words` (in order), `None` where the word
/// finds posts or nothing is like it. All `None` when the server lacks
/// pg_trgm.
pub async fn similar_words(
    client: &impl GenericClient,
    words: &[String],
) -> Result<Vec<Option<String>>, StoreError> {
    let rows = match client.prepare_cached(SIMILAR_WORDS).await {
        Ok(statement) => client.query(&statement, &[&words]).await?,
        Err(error) if error.code() == Some(&SqlState::UNDEFINED_FUNCTION) => {
            tracing::debug!("no search suggestions without pg_trgm: {error}");
            return Ok(vec![None; words.len()]);
        }
        Err(error) => return Err(error.into()),
    };
    rows.iter().map(|row| Ok(row.try_get(0)?)).collect()
}

/// Up to `limit` popular tags and `limit` categories to browse.
pub async fn browsing(
    client: &impl GenericClient,
    limit: i64,
) -> Result<(Vec<TagLink>, Vec<TagLink>), StoreError> {
    let mut lists = Vec::with_capacity(2);
    for sql in [POPULAR_TAGS, BROWSABLE_CATEGORIES] {
        let statement = client.prepare_cached(sql).await?;
        let links = client
            .query(&statement, &[&limit])
            .await?
            .iter()
            .map(|row| {
                Ok(TagLink {
                    name: row.try_get(0)?,
                    slug: row.try_get(1)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        lists.push(links);
    }
    let categories = lists.pop().unwrap_or_default();
    let tags = lists.pop().unwrap_or_default();
    Ok((tags, categories))
}
