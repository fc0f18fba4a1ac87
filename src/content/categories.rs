//! The rules of managing categories: a name and an address no other
//! category has, and an audit row for every change, in the caller's
//! transaction. As with [`super::writing`], a refusal is an outcome and the
//! caller drops the transaction after one.

use deadpool_postgres::Transaction;

use crate::audit::{self, Actor, AuditAction, AuditEntity};
use crate::content::model::{Category, CategoryId};
use crate::content::store::{self, CategoryFields};
use crate::db::StoreError;

/// What saving a category came to.
#[derive(Clone, Debug)]
pub enum CategorySaved {
    /// Saved with its audit row (none when nothing changed).
    Saved(Category),
    /// Another category has this name.
    NameTaken,
    /// Another category uses this slug.
    SlugTaken,
    /// The category is gone.
    NotFound,
}

/// The outcome of a unique violation, if `error` is one of the two.
fn taken(error: StoreError) -> Result<CategorySaved, StoreError> {
    match error.constraint() {
        Some("categories_name_idx") => Ok(CategorySaved::NameTaken),
        Some("categories_slug_idx") => Ok(CategorySaved::SlugTaken),
        _ => Err(error),
    }
}

/// Creates a category of `fields`.
pub async fn create_category(
    transaction: &Transaction<'_>,
    actor: &Actor,
    fields: &CategoryFields,
) -> Result<CategorySaved, StoreError> {
    let category = match store::insert_category(transaction, fields).await {
        Ok(category) => category,
        Err(error) => return taken(error),
    };
    audit::store::record(
        transaction,
        &actor.entry(
            AuditAction::Create,
            AuditEntity::Categories,
            Some(category.id.0),
            audit::created(&category),
        ),
    )
    .await?;
    Ok(CategorySaved::Saved(category))
}

/// Saves `fields` over the category `before`.
pub async fn update_category(
    transaction: &Transaction<'_>,
    actor: &Actor,
    before: &Category,
    fields: &CategoryFields,
) -> Result<CategorySaved, StoreError> {
    let after = match store::update_category(transaction, before.id, fields).await {
        Ok(Some(after)) => after,
        Ok(None) => return Ok(CategorySaved::NotFound),
        Err(error) => return taken(error),
    };
    let changes = audit::changed(before, &after);
    if !changes.is_empty() {
        audit::store::record(
            transaction,
            &actor.entry(
                AuditAction::Update,
                AuditEntity::Categories,
                Some(before.id.0),
                changes,
            ),
        )
        .await?;
    }
    Ok(CategorySaved::Saved(after))
}

/// Deletes the category `id` (its posts keep existing, without a category):
/// the category as it was, or `None` when there is none.
pub async fn delete_category(
    transaction: &Transaction<'_>,
    actor: &Actor,
    id: CategoryId,
) -> Result<Option<Category>, StoreError> {
    let Some(before) = store::category_by_id(transaction, id).await? else {
        return Ok(None);
    };
    store::delete_category(transaction, id).await?;
    audit::store::record(
        transaction,
        &actor.entry(
            AuditAction::Delete,
            AuditEntity::Categories,
            Some(id.0),
            audit::deleted(&before),
        ),
    )
    .await?;
    Ok(Some(before))
}
