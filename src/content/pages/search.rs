//! `GET /search?q=`: published posts matching a reader's words (prefixes
//! of words of the title, tags, category and body), best first, with the
//! matches highlighted; a "did you mean" and things to browse when nothing
//! matches; the newest posts when nothing was typed.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::reader::{categories_stylesheet, page_of};
use super::{CardView, LinkView, PAGE_SIZE};
use crate::content::markdown;
use crate::content::search::{
    Highlighted, MAX_QUERY_CHARS, SearchInput, SearchText, plain_for_headline, with_ellipses,
};
use crate::content::store::{self, Listing};
use crate::web::AppState;
use crate::web::local_time::LocalTimes;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};
use crate::web::visitor::Visitor;

/// The search page.
#[derive(Template)]
#[template(path = "content/search.html")]
pub struct SearchPage {
    /// The layout.
    pub layout: Layout,
    /// The search box's value, as typed.
    pub query: String,
    /// A line above the results.
    pub summary: Option<String>,
    /// The posts.
    pub cards: Vec<CardView>,
    /// When nothing matched: what to say.
    pub nothing: Option<String>,
    /// When nothing matched: a search that may, with its link.
    pub suggestion: Option<LinkView>,
    /// When nothing matched: popular tags.
    pub tags: Vec<LinkView>,
    /// When nothing matched: categories.
    pub categories: Vec<LinkView>,
    /// The next page, when there is one.
    pub older_url: Option<String>,
    /// The first page, when this is not it.
    pub newest_url: Option<String>,
}

/// `?q=&page=` of the search page.
#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<String>,
}

/// The most result pages a search shows.
const SEARCH_PAGES: i64 = 10;

/// The most bytes of a post's text a snippet is looked for in.
const SNIPPET_SOURCE_BYTES: usize = 20_000;

/// How many tags and categories a search that found nothing offers.
const BROWSE_LINKS: i64 = 8;

/// `GET /search?q=&page=`.
pub async fn search(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, PageError> {
    let page_number = match query.page.as_deref() {
        None | Some("") => 1,
        Some(page) => page
            .parse::<i64>()
            .ok()
            .filter(|page| (1..=SEARCH_PAGES).contains(page))
            .ok_or_else(|| PageError::BadRequest("There is no such page of results.".to_owned()))?,
    };
    let typed = query.q.trim().to_owned();
    let mut page = SearchPage {
        layout: Layout::for_visitor(
            &visitor,
            if typed.is_empty() {
                "Search".to_owned()
            } else {
                format!("Search: {typed}")
            },
            format!("Search the posts of {}.", state.site_name()),
        ),
        query: typed.clone(),
        summary: None,
        cards: Vec::new(),
        nothing: None,
        suggestion: None,
        tags: Vec::new(),
        categories: Vec::new(),
        older_url: None,
        newest_url: None,
    };
    categories_stylesheet(&mut page.layout);
    match SearchText::parse(&typed) {
        Ok(search) => results(&state, visitor.time_zone(), &search, page_number, &mut page).await?,
        Err(SearchInput::Empty) => {
            let (cards, older_url, _) =
                page_of(&state, visitor.time_zone(), Listing::All, "/blog", None).await?;
            page.summary = Some("The newest posts. Type a few words to search them all.".into());
            page.cards = cards;
            page.older_url = older_url;
        }
        Err(SearchInput::TooLong) => {
            return Err(PageError::BadRequest(format!(
                "A search can be up to {MAX_QUERY_CHARS} characters long. Try a few words."
            )));
        }
        Err(SearchInput::NoWords) => {
            page.nothing = Some(format!("No posts match “{typed}”. Try some words."));
            browse(&state, &mut page).await?;
        }
    }
    Ok(render(&page, StatusCode::OK))
}

/// Fills `page` with the results of `search`, or what to do when there are
/// none.
async fn results(
    state: &AppState,
    zone: &str,
    search: &SearchText,
    page_number: i64,
    page: &mut SearchPage,
) -> Result<(), PageError> {
    let tsquery = search.tsquery();
    let client = state.pool.get().await?;
    let mut found = store::search(
        &client,
        &tsquery,
        PAGE_SIZE + 1,
        (page_number - 1) * PAGE_SIZE,
    )
    .await?;
    let encoded = encoded_query(&page.query);
    let page_size = usize::try_from(PAGE_SIZE).unwrap_or(20);
    if found.len() > page_size && page_number < SEARCH_PAGES {
        page.older_url = Some(format!("/search?{encoded}&page={}", page_number + 1));
    }
    found.truncate(page_size);
    page.newest_url = (page_number > 1).then(|| format!("/search?{encoded}"));
    if found.is_empty() {
        page.nothing = Some(if page_number > 1 {
            format!("No more posts match “{}”.", page.query)
        } else {
            format!("No posts match “{}”.", page.query)
        });
        let replacements = store::similar_words(&client, &search.words()).await?;
        if replacements.iter().any(Option::is_some) {
            let words: Vec<String> = search
                .words()
                .into_iter()
                .zip(replacements)
                .map(|(word, replacement)| replacement.unwrap_or(word))
                .collect();
            let suggested = search.with_words(&words);
            page.suggestion = Some(LinkView {
                url: format!("/search?{}", encoded_query(&suggested)),
                label: suggested,
            });
        }
        drop(client);
        return browse(state, page).await;
    }
    let documents: Vec<(String, String)> = found
        .iter()
        .map(|(card, content)| {
            (
                plain_for_headline(&card.title),
                plain_for_headline(&markdown::plain_text(content, SNIPPET_SOURCE_BYTES)),
            )
        })
        .collect();
    let headlines = store::headlines(&client, &documents, &tsquery).await?;
    let times = LocalTimes::load(
        &client,
        zone,
        found.iter().map(|(card, _)| card.published_at),
    )
    .await?;
    page.summary = Some(format!(
        "Posts matching “{}”, best matches first.",
        page.query
    ));
    page.cards = found
        .iter()
        .zip(headlines)
        .zip(&documents)
        .map(|(((card, _), (title, body)), (_, source))| {
            let mut view = CardView::of(card, &times);
            view.title_html = Some(Highlighted::from_headline(&title).html().to_owned());
            let snippet = Highlighted::from_headline(&with_ellipses(&body, source));
            view.snippet_html = snippet.is_marked().then(|| snippet.html().to_owned());
            view
        })
        .collect();
    Ok(())
}

/// Tags and categories to browse instead.
async fn browse(state: &AppState, page: &mut SearchPage) -> Result<(), PageError> {
    let client = state.pool.get().await?;
    let (tags, categories) = store::browsing(&client, BROWSE_LINKS).await?;
    page.tags = tags.iter().map(super::tag_link).collect();
    page.categories = categories
        .iter()
        .map(|category| LinkView {
            label: category.name.clone(),
            url: format!("/categories/{}", category.slug),
        })
        .collect();
    Ok(())
}

/// `q=...` for a search link.
fn encoded_query(text: &str) -> String {
    serde_html_form::to_string([("q", text)]).unwrap_or_default()
}
