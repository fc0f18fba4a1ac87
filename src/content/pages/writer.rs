//! The writers' desk: my posts, the editor with preview, status changes and
//! deletion. Only the author (or an admin) reaches a post here; anyone else
//! gets "not found", so ids of other people's drafts reveal nothing.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::day;
use crate::accounts::model::Role;

use crate::audit::{self, Actor, AuditAction, AuditEntity};
use crate::content::markdown;
use crate::content::model::{
    CategoryId, NewPost, Post, PostEdit, PostId, PostStatus, PostWithTags, Tag, TagId,
};
use crate::content::paths;
use crate::content::slug::Slug;
use crate::content::store;
use crate::web::AppState;
use crate::web::access::Member;
use crate::web::csrf::{CsrfForm, EmptyForm};
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};
use crate::web::respond::{Notice, see_other_with};
use crate::web::visitor::{SignedIn, Visitor};

const TITLE_CHARS: usize = 200;
const CONTENT_CHARS: usize = 100_000;
const EXCERPT_CHARS: usize = 500;
const TAG_CHARS: usize = 40;
const MAX_TAGS: usize = 10;
const OWN_PAGE_SIZE: i64 = 50;

/// A line of `/posts`.
#[derive(Clone, Debug)]
pub struct OwnPostView {
    /// Title.
    pub title: String,
    /// The editor.
    pub edit_url: String,
    /// The public page, when published.
    pub public_url: Option<String>,
    /// draft, published or archived.
    pub status: String,
    /// Last change.
    pub updated: String,
    /// Reads.
    pub views: i32,
    /// Category name.
    pub category: Option<String>,
}

/// `GET /posts`.
#[derive(Template)]
#[template(path = "content/posts.html")]
pub struct PostsPage {
    /// The layout.
    pub layout: Layout,
    /// The posts.
    pub posts: Vec<OwnPostView>,
    /// The status filter ("" for all).
    pub status: String,
    /// The search text.
    pub q: String,
    /// The next page's link.
    pub next_url: Option<String>,
    /// The previous page's link.
    pub previous_url: Option<String>,
}

/// `?status=&q=&page=` of `/posts`.
#[derive(Deserialize)]
pub struct PostsQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<String>,
}

/// `GET /posts`: the signed-in user's posts, last changed first.
pub async fn list(
    Member { visitor, signed_in }: Member,
    state: web::Data<AppState>,
    query: web::Query<PostsQuery>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let status = match query.status.as_str() {
        "" | "all" => None,
        other => Some(other.parse::<PostStatus>().map_err(|_| {
            PageError::BadRequest("Filter by draft, published or archived.".to_owned())
        })?),
    };
    let q: String = query.q.trim().chars().take(200).collect();
    let page: i64 = match query.page.as_deref() {
        None | Some("") => 1,
        Some(page) => page
            .parse()
            .ok()
            .filter(|page| (1..=1000).contains(page))
            .ok_or_else(|| PageError::BadRequest("There is no such page.".to_owned()))?,
    };
    let client = state.pool.get().await?;
    let mut posts = store::own_posts(
        &client,
        signed_in.user.id,
        status,
        (!q.is_empty()).then_some(q.as_str()),
        OWN_PAGE_SIZE + 1,
        (page - 1) * OWN_PAGE_SIZE,
    )
    .await?;
    let more = posts.len() > usize::try_from(OWN_PAGE_SIZE).unwrap_or(50);
    posts.truncate(usize::try_from(OWN_PAGE_SIZE).unwrap_or(50));
    let filters = serde_html_form::to_string([
        ("status", status.map(PostStatus::as_str).unwrap_or_default()),
        ("q", q.as_str()),
    ])
    .unwrap_or_default();
    let page_view = PostsPage {
        layout: Layout::for_visitor(&visitor, "Your posts", "Write and publish posts.")
            .with_notice(&request),
        posts: posts
            .into_iter()
            .map(|post| OwnPostView {
                edit_url: format!("/posts/{}/edit", post.id),
                public_url: (post.status == PostStatus::Published)
                    .then(|| format!("/blog/{}", post.slug)),
                status: post.status.as_str().to_owned(),
                updated: day(post.updated_at),
                views: post.view_count,
                category: post.category,
                title: post.title,
            })
            .collect(),
        status: status
            .map(PostStatus::as_str)
            .unwrap_or_default()
            .to_owned(),
        q,
        next_url: more.then(|| format!("/posts?{filters}&page={}", page + 1)),
        previous_url: (page > 1).then(|| format!("/posts?{filters}&page={}", page - 1)),
    };
    Ok(render(&page_view, StatusCode::OK))
}

/// Messages next to the editor's fields.
#[derive(Clone, Debug, Default)]
pub struct EditorErrors {
    /// About the title.
    pub title: Option<String>,
    /// About the content.
    pub content: Option<String>,
    /// About the excerpt.
    pub excerpt: Option<String>,
    /// About the slug.
    pub slug: Option<String>,
    /// About the tags.
    pub tags: Option<String>,
    /// About the category.
    pub category: Option<String>,
    /// About featuring the post.
    pub featured: Option<String>,
}

impl EditorErrors {
    /// Whether any field has a message.
    pub fn any(&self) -> bool {
        self.title.is_some()
            || self.content.is_some()
            || self.excerpt.is_some()
            || self.slug.is_some()
            || self.tags.is_some()
            || self.category.is_some()
            || self.featured.is_some()
    }
}

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

/// The editor form.
#[derive(Clone, Deserialize)]
pub struct PostForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    excerpt: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    featured: Option<String>,
    #[serde(default)]
    action: String,
}

impl PostForm {
    fn from_post(post: &PostWithTags) -> Self {
        let content = post.post.content.clone().unwrap_or_default();
        let excerpt = post.post.excerpt.clone().unwrap_or_default();
        Self {
            // An excerpt that is the derived one shows as empty, so editing
            // the content keeps deriving it.
            excerpt: if excerpt == markdown::excerpt(&content) {
                String::new()
            } else {
                excerpt
            },
            title: post.post.title.clone(),
            content,
            slug: post.post.slug.clone(),
            tags: post
                .tags
                .iter()
                .map(|tag| tag.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            category: post
                .post
                .category_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            featured: post.post.featured.unwrap_or(false).then(|| "on".to_owned()),
            action: String::new(),
        }
    }
}

/// A tag the author typed: its display name and slug.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagInput {
    /// Display name, as typed (trimmed).
    pub name: String,
    /// Normalised slug.
    pub slug: Slug,
}

/// Parses "rust, Web Dev, async" into at most ten tags, de-duplicated by
/// slug (so "Rust" and "rust" are one tag).
pub fn parse_tags(text: &str) -> Result<Vec<TagInput>, String> {
    let mut tags: Vec<TagInput> = Vec::new();
    for part in text.split([',', '\n']) {
        let name = part.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            continue;
        }
        if name.chars().count() > TAG_CHARS {
            return Err(format!("Keep each tag under {TAG_CHARS} characters."));
        }
        let Some(slug) = Slug::parse(&name) else {
            return Err(format!(
                "“{name}” has no letters or digits: it can't be a tag."
            ));
        };
        if !tags.iter().any(|tag| tag.slug == slug) {
            tags.push(TagInput { name, slug });
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(format!("Use at most {MAX_TAGS} tags."));
    }
    Ok(tags)
}

/// A checked editor form.
pub struct Parsed {
    /// The title, trimmed, 1 to 200 characters without control characters.
    pub title: String,
    /// The Markdown, every line break as `\n`.
    pub content: String,
    /// The excerpt the author typed, whitespace collapsed ("" to derive it).
    pub excerpt: String,
    /// The slug the author typed, if any.
    pub typed_slug: Option<Slug>,
    /// The tags, de-duplicated by slug.
    pub tags: Vec<TagInput>,
    /// The chosen category.
    pub category: Option<CategoryId>,
    /// Whether to feature the post.
    pub featured: bool,
}

impl Parsed {
    /// The author's excerpt, or the first words of the content.
    pub fn excerpt_or_derived(&self) -> String {
        if self.excerpt.is_empty() {
            markdown::excerpt(&self.content)
        } else {
            self.excerpt.clone()
        }
    }
}

/// Checks an editor form as `POST /posts` and `POST /posts/{id}` do: the
/// checked post, or `None` with a message in `errors` per bad field.
pub fn parse_form(form: &PostForm, errors: &mut EditorErrors) -> Option<Parsed> {
    let title = form.title.trim().to_owned();
    if title.is_empty() {
        errors.title = Some("Give the post a title.".to_owned());
    } else if title.chars().count() > TITLE_CHARS {
        errors.title = Some(format!("Keep the title under {TITLE_CHARS} characters."));
    } else if title.chars().any(char::is_control) {
        errors.title =
            Some("The title can't contain line breaks or control characters.".to_owned());
    }
    // Every line break as "\n": a lone "\r" is one too (CommonMark), and
    // "\r\r\n" must not leave a "\r\n" behind.
    let content = form.content.replace("\r\n", "\n").replace('\r', "\n");
    if content.chars().count() > CONTENT_CHARS {
        errors.content = Some(format!(
            "Posts can be at most {CONTENT_CHARS} characters long."
        ));
    }
    let excerpt = form
        .excerpt
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if excerpt.chars().count() > EXCERPT_CHARS {
        errors.excerpt = Some(format!(
            "Keep the excerpt under {EXCERPT_CHARS} characters."
        ));
    }
    let typed_slug = if form.slug.trim().is_empty() {
        None
    } else {
        let slug = Slug::parse(&form.slug);
        if slug.is_none() {
            errors.slug = Some("Use letters, digits and dashes in the address.".to_owned());
        }
        slug
    };
    let tags = parse_tags(&form.tags).unwrap_or_else(|message| {
        errors.tags = Some(message);
        Vec::new()
    });
    let category = match form.category.trim() {
        "" => None,
        text => match uuid::Uuid::try_parse(text) {
            Ok(id) => Some(CategoryId(id)),
            Err(_) => {
                errors.category = Some("Choose a category from the list.".to_owned());
                None
            }
        },
    };
    if errors.any() {
        return None;
    }
    Some(Parsed {
        title,
        content,
        excerpt,
        typed_slug,
        tags,
        category,
        featured: form.featured.is_some(),
    })
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
        action: post.map_or_else(|| "/posts".to_owned(), |post| format!("/posts/{}", post.id)),
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
            .map(|post| format!("/blog/{}", post.slug)),
    };
    Ok(render(&page, status))
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

/// `GET /posts/new`.
pub async fn new_page(
    Member { visitor, .. }: Member,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let form = PostForm {
        title: String::new(),
        content: String::new(),
        excerpt: String::new(),
        slug: String::new(),
        tags: String::new(),
        category: String::new(),
        featured: None,
        action: String::new(),
    };
    editor(
        &state,
        &visitor,
        None,
        &form,
        EditorErrors::default(),
        false,
        None,
        StatusCode::OK,
    )
    .await
}

/// The post if `signed_in` may edit it; otherwise "not found".
fn editable(post: Option<PostWithTags>, signed_in: &SignedIn) -> Result<PostWithTags, PageError> {
    post.filter(|post| post.post.user_id == signed_in.user.id || signed_in.user.role == Role::Admin)
        .ok_or(PageError::NotFound)
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
        editable(store::post_with_tags(&client, id).await?, &signed_in)?
    };
    let form = PostForm::from_post(&post);
    editor(
        &state,
        &visitor,
        Some(&post.post),
        &form,
        EditorErrors::default(),
        false,
        Some(&request),
        StatusCode::OK,
    )
    .await
}

/// The suggestion for a taken slug: the first free `slug-n`.
async fn free_slug(
    client: &impl deadpool_postgres::GenericClient,
    slug: &Slug,
) -> Result<Slug, PageError> {
    let taken = store::numbered_slugs(client, slug.as_str()).await?;
    let mut n = 2;
    loop {
        let candidate = slug.numbered(n);
        if !taken.iter().any(|taken| taken == candidate.as_str()) {
            return Ok(candidate);
        }
        n += 1;
    }
}

/// The slug to save: the typed one if free (else a message with a
/// suggestion), or the title's, numbered if another post has it.
async fn choose_slug(
    client: &impl deadpool_postgres::GenericClient,
    parsed: &Parsed,
    post: Option<PostId>,
    errors: &mut EditorErrors,
) -> Result<Option<Slug>, PageError> {
    let (slug, typed) = match &parsed.typed_slug {
        Some(slug) => (slug.clone(), true),
        None => (Slug::from_title(&parsed.title, "post"), false),
    };
    match store::slug_owner(client, slug.as_str()).await? {
        None => Ok(Some(slug)),
        Some(owner) if Some(owner) == post => Ok(Some(slug)),
        // The same words whoever holds the address, and whatever its state:
        // the message must not tell a writer about other writers' drafts.
        Some(_) if typed => {
            let suggestion = free_slug(client, &slug).await?;
            errors.slug = Some(format!(
                "The address “{slug}” is not available. Try “{suggestion}”."
            ));
            Ok(None)
        }
        Some(_) => Ok(Some(free_slug(client, &slug).await?)),
    }
}

/// Finds or creates the typed tags, auditing the new ones.
async fn tags_for(
    client: &impl deadpool_postgres::GenericClient,
    actor: &Actor,
    tags: &[TagInput],
) -> Result<Vec<Tag>, PageError> {
    // Created in slug order: two edits creating the same new tags wait for
    // each other in one order instead of deadlocking.
    let mut sorted: Vec<&TagInput> = tags.iter().collect();
    sorted.sort_by(|left, right| left.slug.as_str().cmp(right.slug.as_str()));
    let mut found = Vec::with_capacity(tags.len());
    for tag in sorted {
        let (tag, created) = store::ensure_tag(client, &tag.name, tag.slug.as_str()).await?;
        if created {
            audit::store::record(
                client,
                &actor.entry(
                    AuditAction::Create,
                    AuditEntity::Tags,
                    Some(tag.id.0),
                    audit::created(&tag),
                ),
            )
            .await?;
        }
        found.push(tag);
    }
    Ok(found)
}

/// Whether the category can be chosen (exists and is active).
async fn category_is_active(
    client: &impl deadpool_postgres::GenericClient,
    category: Option<CategoryId>,
) -> Result<bool, PageError> {
    let Some(id) = category else {
        return Ok(true);
    };
    Ok(store::category_by_id(client, id)
        .await?
        .is_some_and(|category| category.is_active.unwrap_or(true)))
}

/// The plan feature that lets a writer feature posts on the home page.
pub const FEATURED_POSTS: &str = "Featured posts";

/// Featuring a post on the home page comes with plans that include
/// [`FEATURED_POSTS`] (admins always may).
async fn check_featuring(
    client: &impl deadpool_postgres::GenericClient,
    signed_in: &SignedIn,
    errors: &mut EditorErrors,
) -> Result<(), PageError> {
    if signed_in.user.role != Role::Admin
        && !crate::billing::store::has_feature(client, signed_in.user.id, FEATURED_POSTS).await?
    {
        errors.featured = Some(format!(
            "Featuring posts on the home page comes with plans that include “{FEATURED_POSTS}”: see the pricing page."
        ));
    }
    Ok(())
}

/// `POST /posts`: create (or preview) a new post, as a draft.
pub async fn create(
    state: web::Data<AppState>,
    request: CsrfForm<PostForm, Member>,
) -> Result<HttpResponse, PageError> {
    let Member { signed_in, .. } = request.access;
    let CsrfForm { form, visitor, .. } = request;
    let mut errors = EditorErrors::default();
    let parsed = parse_form(&form, &mut errors);
    let Some(parsed) = parsed.filter(|_| form.action != "preview") else {
        let status = if errors.any() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        };
        return editor(
            &state,
            &visitor,
            None,
            &form,
            errors,
            form.action == "preview",
            None,
            status,
        )
        .await;
    };
    let actor = Actor::from(&visitor);
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    if !category_is_active(&transaction, parsed.category).await? {
        errors.category = Some("That category is no longer available.".to_owned());
    }
    if parsed.featured {
        check_featuring(&transaction, &signed_in, &mut errors).await?;
    }
    let slug = choose_slug(&transaction, &parsed, None, &mut errors).await?;
    let Some(slug) = slug.filter(|_| !errors.any()) else {
        drop(transaction);
        return refuse(
            &state,
            &visitor,
            None,
            &form,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let excerpt = parsed.excerpt_or_derived();
    let created = store::create_post(
        &transaction,
        &NewPost {
            user_id: signed_in.user.id,
            title: parsed.title.clone(),
            content: Some(parsed.content.clone()),
            excerpt: Some(excerpt),
            slug: slug.into_string(),
            status: PostStatus::Draft,
            featured: parsed.featured,
            category_id: parsed.category,
        },
    )
    .await;
    let post = match created {
        Ok(post) => post,
        Err(error) if error.constraint() == Some("posts_slug_idx") => {
            drop(transaction);
            errors.slug = Some(
                "Another post took this address a moment ago. Save again to get a new one."
                    .to_owned(),
            );
            return refuse(&state, &visitor, None, &form, errors, StatusCode::CONFLICT).await;
        }
        Err(error) => return Err(error.into()),
    };
    let tags = tags_for(&transaction, &actor, &parsed.tags).await?;
    let tag_ids: Vec<TagId> = tags.iter().map(|tag| tag.id).collect();
    store::set_post_tags(&transaction, post.id, &tag_ids).await?;
    let post = PostWithTags { post, tags };
    audit::store::record(
        &transaction,
        &actor.entry(
            AuditAction::Create,
            AuditEntity::Posts,
            Some(post.post.id.0),
            audit::created(&post),
        ),
    )
    .await?;
    transaction.commit().await?;
    Ok(see_other_with(
        &paths::edit_post(post.post.id),
        Notice::PostCreated,
    ))
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
    let parsed = parse_form(&form, &mut errors);
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let before = editable(store::post_for_update(&transaction, id).await?, &signed_in)?;
    let Some(parsed) = parsed.filter(|_| form.action != "preview") else {
        drop(transaction);
        drop(client);
        let status = if errors.any() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        };
        return editor(
            &state,
            &visitor,
            Some(&before.post),
            &form,
            errors,
            form.action == "preview",
            None,
            status,
        )
        .await;
    };
    if parsed.category != before.post.category_id
        && !category_is_active(&transaction, parsed.category).await?
    {
        errors.category = Some("That category is no longer available.".to_owned());
    }
    if parsed.featured && !before.post.featured.unwrap_or(false) {
        check_featuring(&transaction, &signed_in, &mut errors).await?;
    }
    let slug = choose_slug(&transaction, &parsed, Some(id), &mut errors).await?;
    let Some(slug) = slug.filter(|_| !errors.any()) else {
        drop(transaction);
        drop(client);
        return refuse(
            &state,
            &visitor,
            Some(&before.post),
            &form,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let excerpt = parsed.excerpt_or_derived();
    let edit = PostEdit {
        title: parsed.title.clone(),
        content: parsed.content.clone(),
        excerpt,
        slug: slug.into_string(),
        featured: parsed.featured,
        category_id: parsed.category,
    };
    let tags = tags_for(&transaction, &actor, &parsed.tags).await?;
    let after = PostWithTags {
        post: before.post.edited(&edit),
        tags,
    };
    let changes = audit::changed(&before, &after);
    if !changes.is_empty() {
        let saved = store::update_post(&transaction, id, &edit).await;
        match saved {
            Ok(_) => {}
            Err(error) if error.constraint() == Some("posts_slug_idx") => {
                drop(transaction);
                drop(client);
                errors.slug =
                    Some("Another post took this address a moment ago. Choose another.".to_owned());
                return refuse(
                    &state,
                    &visitor,
                    Some(&before.post),
                    &form,
                    errors,
                    StatusCode::CONFLICT,
                )
                .await;
            }
            Err(error) => return Err(error.into()),
        }
        let tag_ids: Vec<TagId> = after.tags.iter().map(|tag| tag.id).collect();
        store::set_post_tags(&transaction, id, &tag_ids).await?;
        audit::store::record(
            &transaction,
            &actor.entry(AuditAction::Update, AuditEntity::Posts, Some(id.0), changes),
        )
        .await?;
    }
    transaction.commit().await?;
    Ok(see_other_with(&paths::edit_post(id), Notice::PostSaved))
}

/// The status form.
#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
}

/// Whether a post may move from `from` to `to`: draft -> published ->
/// archived, and back to draft from either.
pub fn transition_allowed(from: PostStatus, to: PostStatus) -> bool {
    matches!(
        (from, to),
        (PostStatus::Draft, PostStatus::Published)
            | (PostStatus::Published, PostStatus::Archived)
            | (
                PostStatus::Published | PostStatus::Archived,
                PostStatus::Draft
            )
    )
}

/// `POST /posts/{id}/status`: publish, archive, or back to draft.
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
    // Sessions belong to confirmed accounts only; publishing states it again.
    if to == PostStatus::Published && !signed_in.user.email_verified {
        return Err(PageError::BadRequest(
            "Confirm your email address before publishing.".to_owned(),
        ));
    }
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let before = editable(store::post_for_update(&transaction, id).await?, &signed_in)?;
    if !transition_allowed(before.post.status, to) {
        return Err(PageError::BadRequest(format!(
            "A {} post can't become {}: posts go from draft to published to archived, and back to draft.",
            before.post.status, to
        )));
    }
    let after = PostWithTags {
        post: store::set_status(&transaction, id, to).await?,
        tags: before.tags.clone(),
    };
    audit::store::record(
        &transaction,
        &Actor::from(&visitor).entry(
            AuditAction::Update,
            AuditEntity::Posts,
            Some(id.0),
            audit::changed(&before, &after),
        ),
    )
    .await?;
    transaction.commit().await?;
    let notice = match to {
        PostStatus::Published => Notice::PostPublished,
        PostStatus::Archived => Notice::PostArchived,
        PostStatus::Draft => Notice::PostDrafted,
    };
    Ok(see_other_with(&paths::edit_post(id), notice))
}

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
        editable(store::post_with_tags(&client, id).await?, &signed_in)?
    };
    let page = DeletePage {
        layout: Layout::for_visitor(&visitor, "Delete post", "Delete a post."),
        title: post.post.title,
        action: format!("/posts/{id}/delete"),
        edit_url: format!("/posts/{id}/edit"),
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
    let visitor = request.visitor;
    let id = path.into_inner();
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let before = editable(store::post_for_update(&transaction, id).await?, &signed_in)?;
    store::delete_post(&transaction, id).await?;
    audit::store::record(
        &transaction,
        &Actor::from(&visitor).entry(
            AuditAction::Delete,
            AuditEntity::Posts,
            Some(id.0),
            audit::deleted(&before),
        ),
    )
    .await?;
    transaction.commit().await?;
    Ok(see_other_with(paths::POSTS, Notice::PostDeleted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_trimmed_deduplicated_by_slug_and_limited() {
        let tags = parse_tags(" Rust, rust ,Web   Dev,, async\n").unwrap();
        let names: Vec<&str> = tags.iter().map(|tag| tag.name.as_str()).collect();
        assert_eq!(names, ["Rust", "Web Dev", "async"]);
        assert_eq!(tags[1].slug.as_str(), "web-dev");
        assert!(parse_tags("!!!").is_err());
        assert!(parse_tags(&"t,".repeat(5)).is_ok());
        let eleven: Vec<String> = (0..11).map(|n| format!("tag{n}")).collect();
        assert!(parse_tags(&eleven.join(",")).is_err());
        assert!(parse_tags(&"x".repeat(41)).is_err());
    }

    #[test]
    fn posts_go_draft_published_archived_and_back_to_draft() {
        use PostStatus::{Archived, Draft, Published};
        assert!(transition_allowed(Draft, Published));
        assert!(transition_allowed(Published, Archived));
        assert!(transition_allowed(Archived, Draft));
        assert!(transition_allowed(Published, Draft));
        assert!(!transition_allowed(Draft, Archived));
        assert!(!transition_allowed(Archived, Published));
        assert!(!transition_allowed(Draft, Draft));
    }
}
