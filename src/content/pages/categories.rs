//! Admins manage categories: name, slug, description, colour, order and
//! whether readers see it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::category_class;
use super::feeds::is_hex_color;

use crate::audit::Actor;
use crate::audit::{self, AuditAction, AuditEntity};
use crate::content::model::{Category, CategoryId};
use crate::content::paths;
use crate::content::slug::Slug;
use crate::content::store::{self, CategoryFields};
use crate::web::AppState;
use crate::web::access::Admin;
use crate::web::csrf::{CsrfForm, EmptyForm};
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};
use crate::web::respond::{Notice, see_other_with};
use crate::web::visitor::Visitor;

/// A category in the admin list.
#[derive(Clone, Debug)]
pub struct CategoryRow {
    /// Its editor.
    pub edit_url: String,
    /// Name.
    pub name: String,
    /// Slug.
    pub slug: String,
    /// Colour class.
    pub class: String,
    /// Colour.
    pub color: String,
    /// Order.
    pub sort_order: i32,
    /// Shown to readers.
    pub active: bool,
    /// Posts in it.
    pub posts: i64,
}

/// The category form's values and messages.
#[derive(Clone, Debug, Default)]
pub struct CategoryFormView {
    /// Name.
    pub name: String,
    /// Slug.
    pub slug: String,
    /// Description.
    pub description: String,
    /// Colour.
    pub color: String,
    /// Order.
    pub sort_order: String,
    /// Active.
    pub active: bool,
    /// About the name.
    pub name_error: Option<String>,
    /// About the slug.
    pub slug_error: Option<String>,
    /// About the colour.
    pub color_error: Option<String>,
    /// About the order.
    pub sort_order_error: Option<String>,
    /// About the description.
    pub description_error: Option<String>,
}

impl CategoryFormView {
    fn blank() -> Self {
        Self {
            color: "#6366f1".to_owned(),
            sort_order: "0".to_owned(),
            active: true,
            ..Self::default()
        }
    }

    fn of(category: &Category) -> Self {
        Self {
            name: category.name.clone(),
            slug: category.slug.clone(),
            description: category.description.clone().unwrap_or_default(),
            color: category
                .color
                .clone()
                .unwrap_or_else(|| "#6366f1".to_owned()),
            sort_order: category.sort_order.unwrap_or(0).to_string(),
            active: category.is_active.unwrap_or(true),
            ..Self::default()
        }
    }

    fn has_errors(&self) -> bool {
        self.name_error.is_some()
            || self.slug_error.is_some()
            || self.color_error.is_some()
            || self.sort_order_error.is_some()
            || self.description_error.is_some()
    }
}

/// `GET /admin/categories`.
#[derive(Template)]
#[template(path = "content/categories.html")]
pub struct CategoriesPage {
    /// The layout.
    pub layout: Layout,
    /// The categories.
    pub categories: Vec<CategoryRow>,
    /// The new-category form.
    pub form: CategoryFormView,
}

/// `GET /admin/categories/{id}`.
#[derive(Template)]
#[template(path = "content/category.html")]
pub struct CategoryPage {
    /// The layout.
    pub layout: Layout,
    /// Where the form posts.
    pub action: String,
    /// Where deletion posts.
    pub delete_action: String,
    /// The form.
    pub form: CategoryFormView,
    /// Posts in it.
    pub posts: i64,
}

/// The category form.
#[derive(Deserialize)]
pub struct CategoryForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    color: String,
    #[serde(default)]
    sort_order: String,
    #[serde(default)]
    active: Option<String>,
}

fn parse(form: &CategoryForm) -> (CategoryFormView, Option<CategoryFields>) {
    let mut view = CategoryFormView {
        name: form.name.trim().to_owned(),
        slug: form.slug.trim().to_owned(),
        description: form.description.trim().to_owned(),
        color: form.color.trim().to_owned(),
        sort_order: form.sort_order.trim().to_owned(),
        active: form.active.is_some(),
        ..CategoryFormView::default()
    };
    if view.name.is_empty() {
        view.name_error = Some("Give the category a name.".to_owned());
    } else if view.name.chars().count() > 60 || view.name.chars().any(char::is_control) {
        view.name_error = Some("Use at most 60 characters, on one line.".to_owned());
    }
    let slug = if view.slug.is_empty() {
        Slug::parse(&view.name)
    } else {
        Slug::parse(&view.slug)
    };
    if slug.is_none() && view.name_error.is_none() {
        view.slug_error = Some("Use letters, digits and dashes in the address.".to_owned());
    }
    if view.description.chars().count() > 500 {
        view.description_error = Some("Keep the description under 500 characters.".to_owned());
    }
    let color = view.color.to_ascii_lowercase();
    if !is_hex_color(&color) {
        view.color_error = Some("Use a colour like #6366f1.".to_owned());
    }
    let sort_order = if view.sort_order.is_empty() {
        Some(0)
    } else {
        view.sort_order
            .parse::<i32>()
            .ok()
            .filter(|order| (-10_000..=10_000).contains(order))
    };
    if sort_order.is_none() {
        view.sort_order_error = Some("Use a whole number between -10000 and 10000.".to_owned());
    }
    let fields = match (slug, sort_order) {
        (Some(slug), Some(sort_order)) if !view.has_errors() => Some(CategoryFields {
            name: view.name.clone(),
            slug: slug.into_string(),
            description: (!view.description.is_empty()).then(|| view.description.clone()),
            color,
            sort_order,
            is_active: view.active,
        }),
        _ => None,
    };
    (view, fields)
}

/// Puts a unique-index violation next to its field; other errors pass.
fn clash(error: crate::db::StoreError, view: &mut CategoryFormView) -> Result<(), PageError> {
    match error.constraint() {
        Some("categories_name_idx") => {
            view.name_error = Some("Another category has this name.".to_owned());
            Ok(())
        }
        Some("categories_slug_idx") => {
            view.slug_error = Some("Another category uses this address.".to_owned());
            Ok(())
        }
        _ => Err(error.into()),
    }
}

async fn list_view(
    state: &AppState,
    visitor: &Visitor,
    form: CategoryFormView,
    request: Option<&HttpRequest>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let client = state.pool.get().await?;
    let categories = store::categories(&client, true).await?;
    let mut layout = Layout::for_visitor(visitor, "Categories", "Manage the blog's categories.");
    layout.extra_css = Some("/categories.css".to_owned());
    if let Some(request) = request {
        layout = layout.with_notice(request);
    }
    let page = CategoriesPage {
        layout,
        categories: categories
            .into_iter()
            .map(|(category, posts)| CategoryRow {
                edit_url: format!("/admin/categories/{}", category.id),
                class: category_class(category.id),
                color: category.color.unwrap_or_default(),
                sort_order: category.sort_order.unwrap_or(0),
                active: category.is_active.unwrap_or(true),
                name: category.name,
                slug: category.slug,
                posts,
            })
            .collect(),
        form,
    };
    Ok(render(&page, status))
}

/// `GET /admin/categories`.
pub async fn list(
    Admin { visitor, .. }: Admin,
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    list_view(
        &state,
        &visitor,
        CategoryFormView::blank(),
        Some(&request),
        StatusCode::OK,
    )
    .await
}

/// `POST /admin/categories`.
pub async fn create(
    state: web::Data<AppState>,
    request: CsrfForm<CategoryForm, Admin>,
) -> Result<HttpResponse, PageError> {
    let CsrfForm { form, visitor, .. } = request;
    let (mut view, fields) = parse(&form);
    let Some(fields) = fields else {
        return list_view(
            &state,
            &visitor,
            view,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let category = match store::insert_category(&transaction, &fields).await {
        Ok(category) => category,
        Err(error) => {
            clash(error, &mut view)?;
            drop(transaction);
            drop(client);
            return list_view(&state, &visitor, view, None, StatusCode::CONFLICT).await;
        }
    };
    audit::store::record(
        &transaction,
        &Actor::from(&visitor).entry(
            AuditAction::Create,
            AuditEntity::Categories,
            Some(category.id.0),
            audit::created(&category),
        ),
    )
    .await?;
    transaction.commit().await?;
    Ok(see_other_with(
        paths::ADMIN_CATEGORIES,
        Notice::CategoryCreated,
    ))
}

/// `GET /admin/categories/{id}`.
pub async fn edit_page(
    Admin { visitor, .. }: Admin,
    state: web::Data<AppState>,
    path: web::Path<CategoryId>,
) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    let client = state.pool.get().await?;
    let category = store::category_by_id(&client, id)
        .await?
        .ok_or(PageError::NotFound)?;
    drop(client);
    edit_view(
        &state,
        &visitor,
        id,
        CategoryFormView::of(&category),
        StatusCode::OK,
    )
    .await
}

async fn edit_view(
    state: &AppState,
    visitor: &Visitor,
    id: CategoryId,
    form: CategoryFormView,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let client = state.pool.get().await?;
    let posts = store::categories(&client, true)
        .await?
        .into_iter()
        .find(|(category, _)| category.id == id)
        .map_or(0, |(_, posts)| posts);
    let page = CategoryPage {
        layout: Layout::for_visitor(
            visitor,
            format!("Category {}", form.name),
            "Edit a category.",
        ),
        action: format!("/admin/categories/{id}"),
        delete_action: format!("/admin/categories/{id}/delete"),
        form,
        posts,
    };
    Ok(render(&page, status))
}

/// `POST /admin/categories/{id}`.
pub async fn update(
    state: web::Data<AppState>,
    path: web::Path<CategoryId>,
    request: CsrfForm<CategoryForm, Admin>,
) -> Result<HttpResponse, PageError> {
    let CsrfForm { form, visitor, .. } = request;
    let id = path.into_inner();
    let (mut view, fields) = parse(&form);
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let before = store::category_by_id(&transaction, id)
        .await?
        .ok_or(PageError::NotFound)?;
    let Some(fields) = fields else {
        drop(transaction);
        drop(client);
        return edit_view(&state, &visitor, id, view, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let after = match store::update_category(&transaction, id, &fields).await {
        Ok(after) => after.ok_or(PageError::NotFound)?,
        Err(error) => {
            clash(error, &mut view)?;
            drop(transaction);
            drop(client);
            return edit_view(&state, &visitor, id, view, StatusCode::CONFLICT).await;
        }
    };
    let changes = audit::changed(&before, &after);
    if !changes.is_empty() {
        audit::store::record(
            &transaction,
            &Actor::from(&visitor).entry(
                AuditAction::Update,
                AuditEntity::Categories,
                Some(id.0),
                changes,
            ),
        )
        .await?;
    }
    transaction.commit().await?;
    Ok(see_other_with(
        paths::ADMIN_CATEGORIES,
        Notice::CategorySaved,
    ))
}

/// `POST /admin/categories/{id}/delete`: its posts keep existing, without
/// a category.
pub async fn delete(
    state: web::Data<AppState>,
    path: web::Path<CategoryId>,
    request: CsrfForm<EmptyForm, Admin>,
) -> Result<HttpResponse, PageError> {
    let visitor = request.visitor;
    let id = path.into_inner();
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let before = store::category_by_id(&transaction, id)
        .await?
        .ok_or(PageError::NotFound)?;
    store::delete_category(&transaction, id).await?;
    audit::store::record(
        &transaction,
        &Actor::from(&visitor).entry(
            AuditAction::Delete,
            AuditEntity::Categories,
            Some(id.0),
            audit::deleted(&before),
        ),
    )
    .await?;
    transaction.commit().await?;
    Ok(see_other_with(
        paths::ADMIN_CATEGORIES,
        Notice::CategoryDeleted,
    ))
}
