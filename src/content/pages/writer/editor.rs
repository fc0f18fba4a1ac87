//! The editor: a new post or an existing one, its preview, and saving it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::editable;
use crate::audit::Actor;
use crate::content::markdown;
use crate::content::model::{Post, PostId, PostStatus};
use crate::content::paths;
use crate::content::post_form::{EditorErrors, PostForm, parse_form};
use crate::content::store;
use crate::content::writing::{self, FEATURED_POSTS, Problem, Saved};
use crate::web::AppState;
use crate::web::access::Member;
use crate::web::csrf::CsrfForm;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};
use crate::web::respond::{Notice, see_other_with};
use crate::web::visitor::Visitor;

/// A category in the editor's list.
#[derive(Clone, Debug)]
pub struct CategoryOption {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// The editor for a new or an existing post.
#[derive(Template)]
#[template(path = "content/edit.html")]
pub struct EditorPage {
    /// The layout.
    pub layout: Layout,
    /// The post's id (none for a new post).
    pub id: Option<String>,
    /// Its status.
    pub status: String,
    /// Where the form posts.
    pub action: String,
    /// Title.
    pub title: String,
    /// Markdown.
    pub content: String,
    /// Excerpt ("" when derived).
    pub excerpt: String,
    /// Slug.
    pub slug: String,
    /// Tags, comma-separated.
    pub tags: String,
    /// The chosen category id ("" for none).
    pub category: String,
    /// Featured.
    pub featured: bool,
    /// Categories to choose from.
    pub categories: Vec<CategoryOption>,
    /// Field messages.
    pub errors: EditorErrors,
    /// The rendered preview, when asked for.
    pub preview: Option<String>,
    /// The public URL, when published.
    pub public_url: Option<String>,
}

/// The editor page for `form`.
#[expect(clippy::too_many_arguments, reason = "one call per editor state")]
async fn editor(
    state: &AppState,
    visitor: &Visitor,
    post: Option<&Post>,
    form: &PostForm,
    errors: EditorErrors,
    preview: bool,
    request: Option<&HttpRequest>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let client = state.pool.get().await?;
    let categories = store::categories(&client, false)
        .await?
        .into_iter()
        .map(|(category, _)| CategoryOption {
            id: category.id.to_string(),
            name: category.name,
        })
        .collect();
    let title = match post {
        Some(post) => format!("Edit “{}”", post.title),
        None => "New post".to_owned(),
    };
    let mut layout = Layout::for_visitor(visitor, title, "Write a post in Markdown.");
    if let Some(request) = request {
        layout = layout.with_notice(request);
    }
    let page = EditorPage {
        layout,
        id: post.map(|post| post.id.to_string()),
        status: post
            .map_or(PostStatus::Draft, |post| post.status)
            .as_str()
            .to_owned(),
        action: post.map_or_else(
            || paths::POSTS.to_owned(),
            |post| paths::update_post(post.id),
        ),
        title: form.title.clone(),
        content: form.content.clone(),
        excerpt: form.excerpt.clone(),
        slug: form.slug.clone(),
        tags: form.tags.clone(),
        category: form.category.clone(),
        featured: form.featured.is_some(),
        categories,
        errors,
        preview: preview.then(|| markdown::to_html(&form.content)),
        public_url: post
            .filter(|post| post.status == PostStatus::Published)
            .map(|post| paths::post(&post.slug)),
    };
    Ok(render(&page, status))
}

/// The editor again after a preview (200) or a form that did not parse
/// (422, with its messages).
async fn unsaved(
    state: &AppState,
    visitor: &Visitor,
    post: Option<&Post>,
    form: &PostForm,
    errors: EditorErrors,
) -> Result<HttpResponse, PageError> {
    let status = if errors.any() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let preview = form.is_preview();
    editor(state, visitor, post, form, errors, preview, None, status).await
}

/// The editor again, with the author's input and what is wrong with it.
async fn refuse(
    state: &AppState,
    visitor: &Visitor,
    post: Option<&Post>,
    form: &PostForm,
    errors: EditorErrors,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    editor(state, visitor, post, form, errors, false, None, status).await
}

/// The writing rules' problems as messages next to their fields.
fn messages(problems: Vec<Problem>) -> EditorErrors {
    let mut errors = EditorErrors::default();
    for problem in problems {
        match problem {
            Problem::CategoryUnavailable => {
                errors.category = Some("That category is no longer available.".to_owned());
            }
            Problem::FeaturingNeedsPlan => {
                errors.featured = Some(format!(
                    "Featuring posts on the home page comes with plans that include “{FEATURED_POSTS}”: see the pricing page."
                ));
            }
            Problem::SlugUnavailable { slug, suggestion } => {
                errors.slug = Some(format!(
                    "The address “{slug}” is not available. Try “{suggestion}”."
                ));
            }
        }
    }
    errors
}

/// The editor again after the slug was taken between the check and the
/// write (409), with `message` next to it.
async fn raced(
    state: &AppState,
    visitor: &Visitor,
    post: Option<&Post>,
    form: &PostForm,
    message: &str,
) -> Result<HttpResponse, PageError> {
    let errors = EditorErrors {
        slug: Some(message.to_owned()),
        ..EditorErrors::default()
    };
    refuse(state, visitor, post, form, errors, StatusCode::CONFLICT).await
}

/// `GET /posts/new`.
pub async fn new_page(
    Member { visitor, .. }: Member,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let form = PostForm::default();
    let errors = EditorErrors::default();
    editor(
        &state,
        &visitor,
        None,
        &form,
        errors,
        false,
        None,
        StatusCode::OK,
    )
    .await
}

/// `GET /posts/{id}/edit`.
pub async fn edit_page(
    Member { visitor, signed_in }: Member,
    state: web::Data<AppState>,
    path: web::Path<PostId>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    let post = {
        let client = state.pool.get().await?;
        editable(store::post_with_tags(&client, id).await?, &signed_in.user)?
    };
    let form = PostForm::from_post(&post);
    let errors = EditorErrors::default();
    let request = Some(&request);
    editor(
        &state,
        &visitor,
        Some(&post.post),
        &form,
        errors,
        false,
        request,
        StatusCode::OK,
    )
    .await
}

/// `POST /posts`: create (or preview) a new post, as a draft.
pub async fn create(
    state: web::Data<AppState>,
    request: CsrfForm<PostForm, Member>,
) -> Result<HttpResponse, PageError> {
    let Member { signed_in, .. } = request.access;
    let CsrfForm { form, visitor, .. } = request;
    let mut errors = EditorErrors::default();
    let Some(draft) = parse_form(&form, &mut errors).filter(|_| !form.is_preview()) else {
        return unsaved(&state, &visitor, None, &form, errors).await;
    };
    let actor = Actor::from(&visitor);
    let saved = {
        let mut client = state.pool.get().await?;
        let transaction = client.transaction().await?;
        let saved = writing::create_post(&transaction, &actor, &signed_in.user, &draft).await?;
        if matches!(saved, Saved::Saved(_)) {
            transaction.commit().await?;
        }
        saved
    };
    match saved {
        Saved::Saved(post) => Ok(see_other_with(
            &paths::edit_post(post.post.id),
            Notice::PostCreated,
        )),
        Saved::Refused(problems) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            refuse(&state, &visitor, None, &form, messages(problems), status).await
        }
        Saved::SlugTaken => {
            let message =
                "Another post took this address a moment ago. Save again to get a new one.";
            raced(&state, &visitor, None, &form, message).await
        }
    }
}

/// `POST /posts/{id}`: save (or preview) an edit.
pub async fn update(
    state: web::Data<AppState>,
    path: web::Path<PostId>,
    request: CsrfForm<PostForm, Member>,
) -> Result<HttpResponse, PageError> {
    let Member { signed_in, .. } = request.access;
    let CsrfForm { form, visitor, .. } = request;
    let id = path.into_inner();
    let actor = Actor::from(&visitor);
    let mut errors = EditorErrors::default();
    let draft = parse_form(&form, &mut errors).filter(|_| !form.is_preview());
    let (before, saved) = {
        let mut client = state.pool.get().await?;
        let transaction = client.transaction().await?;
        // Someone else's post is "not found" whatever the form says.
        let before = writing::post_to_edit(&transaction, id, &signed_in.user)
            .await?
            .ok_or(PageError::NotFound)?;
        let saved = match draft {
            Some(draft) => Some(
                writing::update_post(&transaction, &actor, &signed_in.user, &before, &draft)
                    .await?,
            ),
            None => None,
        };
        if matches!(saved, Some(Saved::Saved(_))) {
            transaction.commit().await?;
        }
        (before, saved)
    };
    let post = Some(&before.post);
    match saved {
        None => unsaved(&state, &visitor, post, &form, errors).await,
        Some(Saved::Saved(_)) => Ok(see_other_with(&paths::edit_post(id), Notice::PostSaved)),
        Some(Saved::Refused(problems)) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            refuse(&state, &visitor, post, &form, messages(problems), status).await
        }
        Some(Saved::SlugTaken) => {
            let message = "Another post took this address a moment ago. Choose another.";
            raced(&state, &visitor, post, &form, message).await
        }
    }
}
