//! Admins manage categories: name, slug, description, colour, order and
//! whether readers see it.

mod form;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::category_class;
use form::{CategoryForm, CategoryFormView, parse, refused};

use crate::audit::Actor;
use crate::content::categories::{self, CategorySaved};
use crate::content::model::CategoryId;
use crate::content::paths;
use crate::content::store;
use crate::web::AppState;
use crate::web::access::Admin;
use crate::web::confirm::{ConfirmForm, ConfirmPage};
use crate::web::csrf::CsrfForm;
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
                edit_url: paths::admin_category(category.id),
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
    let actor = Actor::from(&visitor);
    let saved = categories::create_category(&transaction, &actor, &fields).await?;
    if let CategorySaved::Saved(_) = saved {
        transaction.commit().await?;
        return Ok(see_other_with(
            paths::ADMIN_CATEGORIES,
            Notice::CategoryCreated,
        ));
    }
    drop(transaction);
    drop(client);
    refused(saved, &mut view)?;
    list_view(&state, &visitor, view, None, StatusCode::CONFLICT).await
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
        action: paths::admin_category(id),
        delete_action: paths::delete_category(id),
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
    let actor = Actor::from(&visitor);
    let saved = categories::update_category(&transaction, &actor, &before, &fields).await?;
    if let CategorySaved::Saved(_) = saved {
        transaction.commit().await?;
        return Ok(see_other_with(
            paths::ADMIN_CATEGORIES,
            Notice::CategorySaved,
        ));
    }
    drop(transaction);
    drop(client);
    refused(saved, &mut view)?;
    edit_view(&state, &visitor, id, view, StatusCode::CONFLICT).await
}

/// `POST /admin/categories/{id}/delete`: its posts keep existing, without
/// a category.
pub async fn delete(
    state: web::Data<AppState>,
    path: web::Path<CategoryId>,
    request: CsrfForm<ConfirmForm, Admin>,
) -> Result<HttpResponse, PageError> {
    let actor = Actor::from(&request.visitor);
    let id = path.into_inner();
    let mut client = state.pool.get().await?;
    if !request.form.confirmed() {
        let (category, posts) = store::categories(&client, true)
            .await?
            .into_iter()
            .find(|(category, _)| category.id == id)
            .ok_or(PageError::NotFound)?;
        return Ok(ConfirmPage::new(
            &request.visitor,
            format!("Delete the category {}?", category.name),
            paths::delete_category(id),
            paths::admin_category(id),
        )
        .saying(format!(
            "Its page goes for good. Its {posts} post(s) stay, without a category."
        ))
        .yes(format!("Yes, delete {}", category.name))
        .response());
    }
    let transaction = client.transaction().await?;
    categories::delete_category(&transaction, &actor, id)
        .await?
        .ok_or(PageError::NotFound)?;
    transaction.commit().await?;
    Ok(see_other_with(
        paths::ADMIN_CATEGORIES,
        Notice::CategoryDeleted,
    ))
}
