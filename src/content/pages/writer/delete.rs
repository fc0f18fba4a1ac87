//! `/posts/{id}/delete`: the confirmation, and deleting.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::editable;
use crate::audit::Actor;
use crate::content::model::PostId;
use crate::content::paths;
use crate::content::store;
use crate::content::writing;
use crate::web::AppState;
use crate::web::access::Member;
use crate::web::csrf::{CsrfForm, EmptyForm};
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};
use crate::web::respond::{Notice, see_other_with};

/// `GET /posts/{id}/delete`: the confirmation.
#[derive(Template)]
#[template(path = "content/delete.html")]
pub struct DeletePage {
    /// The layout.
    pub layout: Layout,
    /// The post's title.
    pub title: String,
    /// Where the form posts.
    pub action: String,
    /// Back to the editor.
    pub edit_url: String,
    /// Its status.
    pub status: String,
}

/// `GET /posts/{id}/delete`.
pub async fn delete_page(
    Member { visitor, signed_in }: Member,
    state: web::Data<AppState>,
    path: web::Path<PostId>,
) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    let post = {
        let client = state.pool.get().await?;
        editable(store::post_with_tags(&client, id).await?, &signed_in.user)?
    };
    let page = DeletePage {
        layout: Layout::for_visitor(&visitor, "Delete post", "Delete a post."),
        title: post.post.title,
        action: paths::delete_post(id),
        edit_url: paths::edit_post(id),
        status: post.post.status.as_str().to_owned(),
    };
    Ok(render(&page, StatusCode::OK))
}

/// `POST /posts/{id}/delete`.
pub async fn delete(
    state: web::Data<AppState>,
    path: web::Path<PostId>,
    request: CsrfForm<EmptyForm, Member>,
) -> Result<HttpResponse, PageError> {
    let Member { signed_in, .. } = request.access;
    let actor = Actor::from(&request.visitor);
    let id = path.into_inner();
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    writing::delete_post(&transaction, &actor, &signed_in.user, id)
        .await?
        .ok_or(PageError::NotFound)?;
    transaction.commit().await?;
    Ok(see_other_with(paths::POSTS, Notice::PostDeleted))
}
