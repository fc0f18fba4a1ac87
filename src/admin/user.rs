//! `/admin/users/{id}`: everything about one user; change their role,
//! deactivate or reactivate them (ending their sessions), resend their
//! verification mail. The last active admin can't be demoted or deactivated.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::accounts::model::{Role, User, UserId, VerificationTokenType};
use crate::accounts::pages::{issue_link, verification_mail};
use crate::accounts::store;
use crate::admin::paths;
use crate::audit::Actor;
use crate::audit::{self, store::AuditFilter};
use crate::audit::{AuditAction, AuditEntity};
use crate::web::AppState;
use crate::web::access::Admin;
use crate::web::confirm::{self, ConfirmPage};
use crate::web::csrf::{CsrfForm, EmptyForm};
use crate::web::local_time::LocalTimes;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};
use crate::web::respond::see_other;
use crate::web::respond::{Notice, see_other_with};
use crate::web::visitor::Visitor;

use super::users::day;

/// The key of the lock every change of admins takes (the one `/setup` takes).
const ADMINS_LOCK: i64 = 7371;

/// A session on the user's page.
#[derive(Clone, Debug)]
pub struct SessionRow {
    /// Started.
    pub started: String,
    /// Last request.
    pub last_seen: String,
    /// Client address.
    pub ip: String,
    /// Browser and system ("Chrome 148 on Linux").
    pub browser: String,
    /// The User-Agent header as sent.
    pub user_agent: String,
}

/// `GET /admin/users/{id}`.
#[derive(Template)]
#[template(path = "admin/user.html")]
pub struct UserPage {
    /// The layout.
    pub layout: Layout,
    /// The user's id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Role.
    pub role: String,
    /// Confirmed email.
    pub verified: bool,
    /// Can sign in.
    pub active: bool,
    /// Joined.
    pub joined: String,
    /// Last sign-in.
    pub last_login: String,
    /// Profile: bio, website, location, time zone.
    pub profile: Vec<(String, String)>,
    /// Open sessions.
    pub sessions: Vec<SessionRow>,
    /// "Pro · active".
    pub subscription: Option<String>,
    /// Their latest posts: (title, editor URL, status).
    pub posts: Vec<(String, String, String)>,
    /// What they did.
    pub trail: Vec<crate::audit::pages::EntryView>,
    /// Their whole trail.
    pub trail_url: String,
    /// What was done to their account.
    pub account_trail_url: String,
    /// A message for the actions.
    pub error: Option<String>,
}

async fn user_view(
    state: &AppState,
    visitor: &Visitor,
    id: UserId,
    error: Option<String>,
    request: Option<&HttpRequest>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let client = state.pool.get().await?;
    let user = store::user_by_id(&client, id)
        .await?
        .ok_or(PageError::NotFound)?;
    let profile = store::profile_of(&client, id).await?;
    let sessions = store::active_sessions_of(&client, id).await?;
    let subscription = crate::billing::store::subscription_of(&client, id).await?;
    let posts = crate::content::store::posts_of(&client, id).await?;
    let trail = crate::audit::store::search(
        &client,
        &AuditFilter {
            actor_email: Some(user.email.clone()),
            ..AuditFilter::default()
        },
        None,
        20,
    )
    .await?;
    let moments = [Some(user.created_at), user.last_login_at]
        .into_iter()
        .flatten()
        .chain(
            sessions
                .iter()
                .flat_map(|(session, last_seen)| [session.created_at, *last_seen]),
        )
        .chain(trail.iter().map(|entry| entry.log.created_at));
    let times = LocalTimes::load(&client, visitor.time_zone(), moments).await?;
    drop(client);
    let mut layout = Layout::for_visitor(
        visitor,
        format!("User {}", user.name),
        "A user and their activity.",
    );
    if let Some(request) = request {
        layout = layout.with_notice(request);
    }
    let query = |pairs: &[(&str, &str)]| serde_html_form::to_string(pairs).unwrap_or_default();
    let page = UserPage {
        layout,
        id: id.to_string(),
        name: user.name.clone(),
        email: user.email.clone(),
        role: user.role.as_str().to_owned(),
        verified: user.email_verified,
        active: user.is_active,
        joined: day(&times, Some(user.created_at)),
        last_login: day(&times, user.last_login_at),
        profile: profile
            .map(|profile| {
                [
                    ("Bio", profile.bio),
                    ("Website", profile.website),
                    ("Location", profile.location),
                    ("Time zone", profile.timezone),
                ]
                .into_iter()
                .filter_map(|(label, value)| {
                    Some((label.to_owned(), value.filter(|value| !value.is_empty())?))
                })
                .collect()
            })
            .unwrap_or_default(),
        sessions: sessions
            .iter()
            .map(|(session, last_seen)| SessionRow {
                started: times.show(session.created_at),
                last_seen: times.show(*last_seen),
                ip: session.ip_address.clone().unwrap_or_default(),
                browser: crate::accounts::user_agent::describe_optional(
                    session.user_agent.as_deref(),
                ),
                user_agent: session.user_agent.clone().unwrap_or_default(),
            })
            .collect(),
        subscription: subscription.map(|current| {
            format!(
                "{} · {}",
                current.plan.name,
                current.subscription.status.as_str()
            )
        }),
        posts: posts
            .iter()
            .take(10)
            .map(|post| {
                (
                    post.title.clone(),
                    crate::content::paths::edit_post(post.id),
                    post.status.as_str().to_owned(),
                )
            })
            .collect(),
        trail: trail
            .iter()
            .map(|entry| crate::audit::pages::EntryView::of(entry, &times))
            .collect(),
        trail_url: format!("{}?{}", paths::AUDIT, query(&[("actor", &user.email)])),
        account_trail_url: format!(
            "{}?{}",
            paths::AUDIT,
            query(&[("entity", "users"), ("entity_id", &id.to_string())])
        ),
        error,
    };
    Ok(render(&page, status))
}

/// `GET /admin/users/{id}`.
pub async fn detail(
    Admin { visitor, .. }: Admin,
    state: web::Data<AppState>,
    path: web::Path<UserId>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    user_view(&state, &visitor, id, None, Some(&request), StatusCode::OK).await
}

/// The role form.
#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

/// `POST /admin/users/{id}/role`.
pub async fn change_role(
    state: web::Data<AppState>,
    path: web::Path<UserId>,
    request: CsrfForm<RoleForm, Admin>,
) -> Result<HttpResponse, PageError> {
    let CsrfForm { form, visitor, .. } = request;
    let id = path.into_inner();
    let role: Role = form
        .role
        .parse()
        .map_err(|_| PageError::BadRequest("Choose the role user or admin.".to_owned()))?;
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&ADMINS_LOCK])
        .await?;
    let user = store::user_by_id(&transaction, id)
        .await?
        .ok_or(PageError::NotFound)?;
    if user.role == role {
        return Ok(see_other(&paths::user(id)));
    }
    if user.role == Role::Admin
        && user.is_active
        && store::other_active_admins(&transaction, id).await? == 0
    {
        drop(transaction);
        drop(client);
        return user_view(
            &state,
            &visitor,
            id,
            Some("This is the last active admin: make someone else an admin first.".to_owned()),
            None,
            StatusCode::CONFLICT,
        )
        .await;
    }
    store::set_role(&transaction, id, role).await?;
    let changes = audit::changed(
        &user,
        &User {
            role,
            ..user.clone()
        },
    );
    audit::store::record(
        &transaction,
        &Actor::from(&visitor).entry(AuditAction::Update, AuditEntity::Users, Some(id.0), changes),
    )
    .await?;
    transaction.commit().await?;
    Ok(see_other_with(&paths::user(id), Notice::UserSaved))
}

/// The active form.
#[derive(Deserialize)]
pub struct ActiveForm {
    #[serde(default)]
    active: String,
    /// "yes" once the admin confirmed a deactivation.
    #[serde(default)]
    confirm: String,
}

/// `POST /admin/users/{id}/active`: deactivation ends every session.
pub async fn change_active(
    state: web::Data<AppState>,
    path: web::Path<UserId>,
    request: CsrfForm<ActiveForm, Admin>,
) -> Result<HttpResponse, PageError> {
    let CsrfForm { form, visitor, .. } = request;
    let id = path.into_inner();
    let active = match form.active.as_str() {
        "true" => true,
        "false" => false,
        _ => {
            return Err(PageError::BadRequest(
                "Choose to activate or deactivate.".to_owned(),
            ));
        }
    };
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&ADMINS_LOCK])
        .await?;
    let user = store::user_by_id(&transaction, id)
        .await?
        .ok_or(PageError::NotFound)?;
    if user.is_active == active {
        return Ok(see_other(&paths::user(id)));
    }
    if !active
        && user.role == Role::Admin
        && store::other_active_admins(&transaction, id).await? == 0
    {
        drop(transaction);
        drop(client);
        return user_view(
            &state,
            &visitor,
            id,
            Some("This is the last active admin: it can't be deactivated.".to_owned()),
            None,
            StatusCode::CONFLICT,
        )
        .await;
    }
    if !active && form.confirm != confirm::YES {
        drop(transaction);
        let sessions = store::active_sessions_of(&client, id).await?.len();
        return Ok(ConfirmPage::new(
            &visitor,
            format!("Deactivate {}?", user.name),
            paths::user_active(id),
            paths::user(id),
        )
        .saying(format!(
            "{} ({}) will not be able to sign in, and is signed out of {} open session(s) at once.",
            user.name, user.email, sessions
        ))
        .saying("Their posts, plan and history stay; you can reactivate them later.")
        .keeping("active", "false")
        .yes(format!("Yes, deactivate {}", user.name))
        .response());
    }
    store::set_active(&transaction, id, active).await?;
    let ended = if active {
        0
    } else {
        store::end_all_sessions(&transaction, id).await?
    };
    let mut entry = Actor::from(&visitor).entry(
        AuditAction::Update,
        AuditEntity::Users,
        Some(id.0),
        audit::changed(
            &user,
            &User {
                is_active: active,
                ..user.clone()
            },
        ),
    );
    entry.metadata = Some(serde_json::json!({ "sessions_ended": ended }));
    audit::store::record(&transaction, &entry).await?;
    transaction.commit().await?;
    let notice = if active {
        Notice::UserReactivated
    } else {
        Notice::UserDeactivated
    };
    Ok(see_other_with(&paths::user(id), notice))
}

/// `POST /admin/users/{id}/verification`: mail a new confirmation link.
pub async fn resend_verification(
    state: web::Data<AppState>,
    path: web::Path<UserId>,
    request: CsrfForm<EmptyForm, Admin>,
) -> Result<HttpResponse, PageError> {
    let visitor = request.visitor;
    let id = path.into_inner();
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let user = store::user_by_id(&transaction, id)
        .await?
        .ok_or(PageError::NotFound)?;
    if user.email_verified {
        return Err(PageError::BadRequest(
            "This address is confirmed already.".to_owned(),
        ));
    }
    let link = issue_link(
        &transaction,
        &state,
        &user.email,
        VerificationTokenType::EmailVerification,
        None,
    )
    .await?;
    let mut entry = Actor::from(&visitor).entry(
        AuditAction::Create,
        AuditEntity::VerificationTokens,
        None,
        audit::Change::none(),
    );
    entry.metadata =
        Some(serde_json::json!({ "type": "email_verification", "for_user": id, "by": "admin" }));
    audit::store::record(&transaction, &entry).await?;
    let language = store::language_of(&transaction, user.id).await?;
    transaction.commit().await?;
    state.send_mail_later(verification_mail(&state, language, &user.email, &link));
    Ok(see_other_with(&paths::user(id), Notice::VerificationResent))
}
