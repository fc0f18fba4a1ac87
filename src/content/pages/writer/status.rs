//! `POST /posts/{id}/status`: publish, archive, or back to draft.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::audit::Actor;
use crate::content::model::{PostId, PostStatus};
use crate::content::paths;
use crate::content::writing::{self, StatusChange};
use crate::web::AppState;
use crate::web::access::Member;
use crate::web::csrf::CsrfForm;
use crate::web::page_error::PageError;
use crate::web::respond::{Notice, see_other_with};

/// The status form.
#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
}

/// `POST /posts/{id}/status`.
pub async fn change_status(
    state: web::Data<AppState>,
    path: web::Path<PostId>,
    request: CsrfForm<StatusForm, Member>,
) -> Result<HttpResponse, PageError> {
    let Member { signed_in, .. } = request.access;
    let CsrfForm { form, visitor, .. } = request;
    let id = path.into_inner();
    let to: PostStatus = form
        .status
        .parse()
        .map_err(|_| PageError::BadRequest("Choose draft, published or archived.".to_owned()))?;
    let actor = Actor::from(&visitor);
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    match writing::change_status(&transaction, &actor, &signed_in.user, id, to).await? {
        StatusChange::Changed(_) => transaction.commit().await?,
        StatusChange::Unconfirmed => {
            return Err(PageError::BadRequest(
                "Confirm your email address before publishing.".to_owned(),
            ));
        }
        StatusChange::NotFound => return Err(PageError::NotFound),
        StatusChange::NotAllowed { from, to } => {
            return Err(PageError::BadRequest(format!(
                "A {from} post can't become {to}: posts go from draft to published to archived, and back to draft."
            )));
        }
    }
    let notice = match to {
        PostStatus::Published => Notice::PostPublished,
        PostStatus::Archived => Notice::PostArchived,
        PostStatus::Draft => Notice::PostDrafted,
    };
    Ok(see_other_with(&paths::edit_post(id), notice))
}
