//! Where the visitor is, for the navigation: the header's sections, the
//! admin sidebar and the account tabs mark the link of the page being shown
//! (`aria-current`), worked out from the request path the page was asked at.

/// The request path of the page being rendered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Nav {
    /// The path, without its query (`/admin/users/…`); empty on pages
    /// rendered without a request (error pages).
    pub path: String,
}

/// A section of the header's main navigation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// Reading: the blog, its tags, categories, authors and search.
    Blog,
    /// The public price list.
    Pricing,
    /// A writer's own posts and the editor.
    Write,
    /// The signed-in user's account pages (billing included).
    Account,
    /// The admin area.
    Admin,
}

/// Whether `path` is `prefix` or a page below it (`/admin/users/1` is below
/// `/admin/users`, `/admin/usersx` is not).
fn within(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The path a route's pages share: `/tags` of `/tags/{slug}`.
fn collection(route: &'static str) -> &'static str {
    route
        .split_once("/{")
        .map_or(route, |(collection, _)| collection)
}

impl Section {
    /// The section `path` belongs to, if any.
    pub fn of(path: &str) -> Option<Self> {
        use crate::{accounts, admin, content};
        let in_any = |prefixes: &[&str]| prefixes.iter().any(|prefix| within(path, prefix));
        if in_any(&[admin::paths::OVERVIEW]) {
            Some(Self::Admin)
        } else if in_any(&[accounts::paths::ACCOUNT]) {
            Some(Self::Account)
        } else if in_any(&[content::paths::POSTS]) {
            Some(Self::Write)
        } else if in_any(&[crate::billing::paths::PRICING]) {
            Some(Self::Pricing)
        } else if in_any(&[
            content::paths::BLOG,
            collection(content::paths::TAG),
            collection(content::paths::CATEGORY),
            collection(content::paths::AUTHOR),
            content::paths::SEARCH,
        ]) {
            Some(Self::Blog)
        } else {
            None
        }
    }
}

/// A link of a sub-navigation, with its `aria-current` on this page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MenuLink {
    /// Where it leads.
    pub href: &'static str,
    /// What it says.
    pub label: &'static str,
    /// "page" on its page, "true" below it.
    pub current: Option<&'static str>,
}

impl Nav {
    /// The navigation state of a page asked for at `path`.
    pub fn at(path: &str) -> Self {
        Self {
            path: path.to_owned(),
        }
    }

    /// Whether the page belongs to the header's `section`.
    pub fn in_section(&self, section: Section) -> bool {
        Section::of(&self.path) == Some(section)
    }

    /// Whether the page is the one at `href` exactly.
    pub fn is(&self, href: &str) -> bool {
        self.path == href
    }

    /// The `aria-current` value of a sub-navigation link to `href`: "page"
    /// on that page, "true" on a page below it (a user of the users list),
    /// nothing elsewhere.
    pub fn current(&self, href: &str) -> Option<&'static str> {
        if self.path == href {
            Some("page")
        } else if within(&self.path, href) {
            Some("true")
        } else {
            None
        }
    }
}

impl Nav {
    /// The links of a menu of (href, label), the one this page is at or
    /// below marked: when several lead above it (`/admin` and
    /// `/admin/users` for `/admin/users/1`), the closest.
    pub fn menu(&self, links: &[(&'static str, &'static str)]) -> Vec<MenuLink> {
        let closest = links
            .iter()
            .filter(|(href, _)| within(&self.path, href))
            .map(|(href, _)| *href)
            .max_by_key(|href| href.len());
        links
            .iter()
            .map(|&(href, label)| MenuLink {
                href,
                label,
                current: (Some(href) == closest)
                    .then(|| if self.path == href { "page" } else { "true" }),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{Nav, Section};

    #[test]
    fn a_path_belongs_to_the_section_it_is_under() {
        assert_eq!(Section::of("/blog"), Some(Section::Blog));
        assert_eq!(Section::of("/blog/hello"), Some(Section::Blog));
        assert_eq!(Section::of("/tags/rust"), Some(Section::Blog));
        assert_eq!(Section::of("/posts/1/edit"), Some(Section::Write));
        assert_eq!(Section::of("/account/billing"), Some(Section::Account));
        assert_eq!(Section::of("/admin/plans/1"), Some(Section::Admin));
        assert_eq!(Section::of("/pricing"), Some(Section::Pricing));
        assert_eq!(Section::of("/"), None);
        assert_eq!(Section::of("/blogger"), None);
        assert_eq!(Section::of("/sign-in"), None);
    }

    #[test]
    fn a_link_is_the_page_or_above_it() {
        let nav = Nav::at("/admin/users/42");
        assert_eq!(nav.current("/admin/users"), Some("true"));
        assert_eq!(nav.current("/admin/users/42"), Some("page"));
        assert_eq!(nav.current("/admin/user"), None);
        assert!(!nav.is("/admin"));
    }

    #[test]
    fn a_menu_marks_the_closest_link_only() {
        let links = [("/admin", "Overview"), ("/admin/users", "Users")];
        let marks = |path: &str| {
            Nav::at(path)
                .menu(&links)
                .iter()
                .map(|link| link.current)
                .collect::<Vec<_>>()
        };
        assert_eq!(marks("/admin"), [Some("page"), None]);
        assert_eq!(marks("/admin/users"), [None, Some("page")]);
        assert_eq!(marks("/admin/users/1"), [None, Some("true")]);
        assert_eq!(marks("/account"), [None, None]);
    }
}
