//! The writers' desk: my posts, the editor with preview, status changes and
//! deletion. Only the author (or an admin) reaches a post here; anyone else
//! gets "not found", so ids of other people's drafts reveal nothing. The
//! rules are [`crate::content::writing`]'s; these handlers parse, call it
//! and render.

mod delete;
mod editor;
mod list;
mod status;

pub use delete::{delete, delete_page};
pub use editor::{create, edit_page, new_page, update};
pub use list::list;
pub use status::change_status;

use crate::accounts::model::User;
use crate::content::model::PostWithTags;
use crate::content::writing;
use crate::web::page_error::PageError;

/// The post if `user` may edit it; otherwise "not found".
fn editable(post: Option<PostWithTags>, user: &User) -> Result<PostWithTags, PageError> {
    post.filter(|post| writing::may_edit(user, &post.post))
        .ok_or(PageError::NotFound)
}
