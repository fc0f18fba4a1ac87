//! Seeding the demo categories, tags and posts.

use deadpool_postgres::GenericClient;

use super::{Seeder, Tally, data};
use crate::accounts::model::UserId;
use crate::audit::{self, AuditEntity};
use crate::content::markdown;
use crate::content::model::{NewPost, PostStatus, PostWithTags, Tag, TagId};
use crate::content::slug::Slug;
use crate::content::store::{self as content, CategoryFields};
use crate::db::StoreError;

impl<C: GenericClient> Seeder<'_, C> {
    /// The demo categories, created when missing: (slug, id) of each.
    pub(super) async fn categories(
        &self,
        tally: &mut Tally,
    ) -> Result<Vec<(&'static str, crate::content::model::CategoryId)>, StoreError> {
        let existing = content::categories(self.client, true).await?;
        let mut found = Vec::with_capacity(data::CATEGORIES.len());
        for &(name, slug, description, color, sort_order) in data::CATEGORIES {
            if let Some((category, _)) = existing
                .iter()
                .find(|(category, _)| category.slug == slug || category.name == name)
            {
                tally.count(false);
                found.push((slug, category.id));
                continue;
            }
            let category = content::insert_category(
                self.client,
                &CategoryFields {
                    name: name.to_owned(),
                    slug: slug.to_owned(),
                    description: Some(description.to_owned()),
                    color: color.to_owned(),
                    sort_order,
                    is_active: true,
                },
            )
            .await?;
            self.audit(
                AuditEntity::Categories,
                category.id.0,
                audit::created(&category),
            )
            .await?;
            tally.count(true);
            found.push((slug, category.id));
        }
        Ok(found)
    }

    /// The tags of the demo posts, created when missing (in slug order, the
    /// order every writer takes tag locks in).
    pub(super) async fn tags(
        &self,
        tally: &mut Tally,
    ) -> Result<Vec<(&'static str, Tag)>, StoreError> {
        let mut wanted: Vec<(String, &'static str)> = data::POSTS
            .iter()
            .flat_map(|post| post.tags.iter())
            .map(|&name| (Slug::from_title(name, "tag").into_string(), name))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut tags = Vec::with_capacity(wanted.len());
        for (slug, name) in wanted {
            let (tag, created) = content::ensure_tag(self.client, name, &slug).await?;
            if created {
                self.audit(AuditEntity::Tags, tag.id.0, audit::created(&tag))
                    .await?;
            }
            tally.count(created);
            tags.push((name, tag));
        }
        Ok(tags)
    }

    /// A post with its tags, unless its slug is taken; `true` when made now.
    pub(super) async fn post(
        &self,
        post: &data::DemoPost,
        author: UserId,
        category: Option<crate::content::model::CategoryId>,
        tags: &[(&'static str, Tag)],
    ) -> Result<bool, StoreError> {
        if content::slug_owner(self.client, post.slug).await?.is_some() {
            return Ok(false);
        }
        let chosen: Vec<&Tag> = post
            .tags
            .iter()
            .filter_map(|name| tags.iter().find(|(wanted, _)| wanted == name))
            .map(|(_, tag)| tag)
            .collect();
        let tag_ids: Vec<TagId> = chosen.iter().map(|tag| tag.id).collect();
        let post_row = content::create_post(
            self.client,
            &NewPost {
                user_id: author,
                title: post.title.to_owned(),
                content: Some(post.content.to_owned()),
                excerpt: Some(markdown::excerpt(post.content)),
                slug: post.slug.to_owned(),
                status: post.status,
                featured: post.featured,
                category_id: category,
            },
        )
        .await?;
        content::set_post_tags(self.client, post_row.id, &tag_ids).await?;
        let created = PostWithTags {
            post: post_row,
            tags: chosen.into_iter().cloned().collect(),
        };
        let written = self.days_ago(post.days_ago);
        let published = (post.status != PostStatus::Draft).then_some(written);
        content::backdate_post(self.client, created.post.id, written, published).await?;
        if post.views > 0 {
            content::count_views(self.client, &[created.post.id.0], &[post.views]).await?;
        }
        self.audit(
            AuditEntity::Posts,
            created.post.id.0,
            audit::created(&created),
        )
        .await?;
        Ok(true)
    }
}
