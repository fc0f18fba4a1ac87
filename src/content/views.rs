//! Counting public reads without a write per read: views are added up in
//! memory and written in one statement every 30 seconds (and at shutdown).
//! A crash loses at most the last half minute of counts, never a post.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use deadpool_postgres::Pool;

use super::ContentError;
use super::model::PostId;
use super::store;

/// How often counted views are written: each write updates every post
/// read since the last one, so a longer interval is fewer row updates.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(30);

/// Views counted since the last write, by post.
#[derive(Clone, Debug, Default)]
pub struct ViewCounter {
    pending: Arc<Mutex<HashMap<PostId, i32>>>,
}

impl ViewCounter {
    /// Counts one read of `post`.
    pub fn record(&self, post: PostId) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let count = pending.entry(post).or_default();
        *count = count.saturating_add(1);
    }

    /// Writes the counted views; on failure they are kept for the next try.
    pub async fn flush(&self, pool: &Pool) -> Result<(), ContentError> {
        let taken =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner));
        if taken.is_empty() {
            return Ok(());
        }
        let (ids, counts): (Vec<uuid::Uuid>, Vec<i32>) =
            taken.iter().map(|(post, count)| (post.0, *count)).unzip();
        let written = async {
            let client = pool.get().await?;
            store::count_views(&client, &ids, &counts).await?;
            Ok::<_, ContentError>(())
        }
        .await;
        if written.is_err() {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            for (post, count) in taken {
                let kept = pending.entry(post).or_default();
                *kept = kept.saturating_add(count);
            }
        }
        written
    }

    /// Flushes every [`FLUSH_INTERVAL`] until the task is aborted.
    pub async fn run(self, pool: Pool) {
        let mut ticker = tokio::time::interval(FLUSH_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(error) = self.flush(&pool).await {
                tracing::warn!(
                    error = %crate::error_chain::Chain(&error),
                    "writing view counts failed; retrying later"
                );
            }
        }
    }
}

/// Rendered post bodies by post, valid while the post's `updated_at` is
/// the same: Markdown is rendered once per edit, not once per read.
#[derive(Clone, Debug, Default)]
pub struct RenderedPosts {
    entries: Arc<Mutex<HashMap<PostId, Rendered>>>,
}

/// A post's HTML and the `updated_at` it was rendered from.
type Rendered = (time::OffsetDateTime, Arc<str>);

/// Posts kept rendered; past this the cache starts over.
const RENDERED_POSTS: usize = 2048;

impl RenderedPosts {
    /// The HTML of `post` as of `updated_at`, rendered by `render` when not
    /// cached.
    pub fn get(
        &self,
        post: PostId,
        updated_at: time::OffsetDateTime,
        render: impl FnOnce() -> String,
    ) -> Arc<str> {
        if let Some((version, html)) = self
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&post)
            && *version == updated_at
        {
            return html.clone();
        }
        let html: Arc<str> = Arc::from(render());
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= RENDERED_POSTS {
            entries.clear();
        }
        entries.insert(post, (updated_at, html.clone()));
        html
    }
}
