//! SQL on `categories`.

use deadpool_postgres::GenericClient;

use crate::content::model::{Category, CategoryId};
use crate::db::{StoreError, from_json, required};

pub(super) const INSERT_CATEGORY: &str = "INSERT INTO categories (name, slug, description, color, sort_order, is_active) \
     VALUES ($1, $2, $3, coalesce($4, '#6366f1'), coalesce($5, 0), coalesce($6, true)) \
     RETURNING to_jsonb(categories.*) AS category";
pub(super) const UPDATE_CATEGORY: &str = "UPDATE categories SET name = $2, slug = $3, description = $4, \
     color = $5, sort_order = $6, is_active = $7 WHERE id = $1 \
     RETURNING to_jsonb(categories.*) AS category";
pub(super) const DELETE_CATEGORY: &str = "DELETE FROM categories WHERE id = $1";
pub(super) const CATEGORY_BY_ID: &str =
    "SELECT to_jsonb(c) AS category FROM categories c WHERE c.id = $1";
pub(super) const ACTIVE_CATEGORY_BY_SLUG: &str = "SELECT to_jsonb(c) AS category FROM categories c \
     WHERE c.slug = $1 AND coalesce(c.is_active, true)";
pub(super) const CATEGORIES: &str = "SELECT to_jsonb(c) AS category, \
         (SELECT count(*) FROM posts p WHERE p.category_id = c.id) AS posts \
     FROM categories c WHERE ($1 OR coalesce(c.is_active, true)) \
     ORDER BY coalesce(c.sort_order, 0), c.name";

/// What creating or editing a category takes.
#[derive(Clone, Debug)]
pub struct CategoryFields {
    /// Display name.
    pub name: String,
    /// URL part.
    pub slug: String,
    /// What it holds.
    pub description: Option<String>,
    /// `#rrggbb`.
    pub color: String,
    /// Position in lists.
    pub sort_order: i32,
    /// Shown to readers.
    pub is_active: bool,
}

/// Creates a category.
pub async fn create_category(
    client: &impl GenericClient,
    name: &str,
    slug: &str,
    description: Option<&str>,
) -> Result<Category, StoreError> {
    insert_category(
        client,
        &CategoryFields {
            name: name.to_owned(),
            slug: slug.to_owned(),
            description: description.map(str::to_owned),
            color: "#6366f1".to_owned(),
            sort_order: 0,
            is_active: true,
        },
    )
    .await
}

/// Creates a category with every field.
pub async fn insert_category(
    client: &impl GenericClient,
    fields: &CategoryFields,
) -> Result<Category, StoreError> {
    let statement = client.prepare_cached(INSERT_CATEGORY).await?;
    let row = client
        .query_one(
            &statement,
            &[
                &fields.name,
                &fields.slug,
                &fields.description,
                &Some(&fields.color),
                &Some(fields.sort_order),
                &Some(fields.is_active),
            ],
        )
        .await?;
    required(from_json(&row, "category")?)
}

/// Saves a category.
pub async fn update_category(
    client: &impl GenericClient,
    id: CategoryId,
    fields: &CategoryFields,
) -> Result<Option<Category>, StoreError> {
    let statement = client.prepare_cached(UPDATE_CATEGORY).await?;
    match client
        .query_opt(
            &statement,
            &[
                &id,
                &fields.name,
                &fields.slug,
                &fields.description,
                &fields.color,
                &fields.sort_order,
                &fields.is_active,
            ],
        )
        .await?
    {
        Some(row) => from_json(&row, "category"),
        None => Ok(None),
    }
}

/// Deletes a category; its posts lose the link.
pub async fn delete_category(
    client: &impl GenericClient,
    id: CategoryId,
) -> Result<(), StoreError> {
    let statement = client.prepare_cached(DELETE_CATEGORY).await?;
    client.execute(&statement, &[&id]).await?;
    Ok(())
}

/// A category by id.
pub async fn category_by_id(
    client: &impl GenericClient,
    id: CategoryId,
) -> Result<Option<Category>, StoreError> {
    let statement = client.prepare_cached(CATEGORY_BY_ID).await?;
    match client.query_opt(&statement, &[&id]).await? {
        Some(row) => from_json(&row, "category"),
        None => Ok(None),
    }
}

/// An active category by slug.
pub async fn active_category_by_slug(
    client: &impl GenericClient,
    slug: &str,
) -> Result<Option<Category>, StoreError> {
    let statement = client.prepare_cached(ACTIVE_CATEGORY_BY_SLUG).await?;
    match client.query_opt(&statement, &[&slug]).await? {
        Some(row) => from_json(&row, "category"),
        None => Ok(None),
    }
}

/// Categories in their order with their post counts; inactive ones only
/// when `include_inactive`.
pub async fn categories(
    client: &impl GenericClient,
    include_inactive: bool,
) -> Result<Vec<(Category, i64)>, StoreError> {
    let statement = client.prepare_cached(CATEGORIES).await?;
    client
        .query(&statement, &[&include_inactive])
        .await?
        .iter()
        .map(|row| {
            Ok((
                required(from_json(row, "category")?)?,
                row.try_get("posts")?,
            ))
        })
        .collect()
}
