//! User-Agent strings as people read them: "Chrome 148 on Linux".
//!
//! Sessions and audit entries keep the raw header (exports show it as
//! sent); pages show this description, with the raw string at hand. The
//! common browsers and systems are told apart by the product tokens they
//! are known to send, checked in an order where a browser that also claims
//! to be another (Edge, Opera and Samsung Internet say "Chrome", Chrome says
//! "Safari") is found first. Anything else is an unknown browser rather than
//! a guess.

/// The browser (with its major version) and system `raw` names, as one
/// short phrase.
pub fn describe(raw: &str) -> String {
    let raw = raw.trim();
    let browser = browser(raw);
    let system = system(raw);
    match (browser, system) {
        (Some(browser), Some(system)) => format!("{browser} on {system}"),
        (Some(browser), None) => browser,
        (None, Some(system)) => format!("Unknown browser on {system}"),
        (None, None) => "Unknown browser".to_owned(),
    }
}

/// [`describe`] of an optional header.
pub fn describe_optional(raw: Option<&str>) -> String {
    raw.map_or_else(|| "Unknown browser".to_owned(), describe)
}

/// Tokens of browsers, most specific first: (token before the version,
/// name).
const BROWSERS: &[(&str, &str)] = &[
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("OPR/", "Opera"),
    ("OPT/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Vivaldi/", "Vivaldi"),
    ("YaBrowser/", "Yandex Browser"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("HeadlessChrome/", "Headless Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
];

/// Words that only crawlers put in their User-Agent.
const CRAWLER_WORDS: &[&str] = &["bot", "spider", "crawl", "slurp"];

fn browser(raw: &str) -> Option<String> {
    if let Some(crawler) = crawler(raw) {
        return Some(crawler);
    }
    // A tool names itself first ("curl/8.17.0"); browsers all start with
    // "Mozilla/5.0" for history's sake.
    if !raw.starts_with("Mozilla/") && !raw.starts_with("Opera/") {
        let first = raw.split_whitespace().next()?;
        let (name, version) = first.split_once('/')?;
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return None;
        }
        return Some(with_version(name, major(version)));
    }
    for (token, name) in BROWSERS {
        if raw.contains(token) {
            return Some(with_version(name, version_after(raw, token)));
        }
    }
    if raw.contains("Safari/") && raw.contains("AppleWebKit/") {
        // Safari's own version is in "Version/"; an app's web view has none.
        return Some(with_version("Safari", version_after(raw, "Version/")));
    }
    None
}

/// The crawler's name, from the token that says it is one
/// ("Googlebot/2.1" -> "Googlebot").
fn crawler(raw: &str) -> Option<String> {
    // Only a product token ("name/version") counts: a phone model such as
    // "CUBOT X30" is no crawler.
    raw.split([' ', ';', '(', ')', ','])
        .filter_map(|token| token.split_once('/').map(|(name, _)| name))
        .find(|name| {
            let lower = name.to_ascii_lowercase();
            CRAWLER_WORDS.iter().any(|word| lower.contains(word))
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                && !lower.starts_with("http")
        })
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
}

fn system(raw: &str) -> Option<String> {
    let system = if raw.contains("iPad") {
        "iPadOS"
    } else if raw.contains("iPhone") || raw.contains("iPod") {
        "iOS"
    } else if raw.contains("CrOS") {
        "ChromeOS"
    } else if raw.contains("Android") {
        "Android"
    } else if raw.contains("Windows") {
        "Windows"
    } else if raw.contains("Macintosh") || raw.contains("Mac OS X") {
        "macOS"
    } else if raw.contains("Linux") || raw.contains("X11") {
        "Linux"
    } else {
        return None;
    };
    Some(system.to_owned())
}

/// The major version after `token` ("Chrome/148.0.0.0" -> "148").
fn version_after<'a>(raw: &'a str, token: &str) -> Option<&'a str> {
    let at = raw.find(token)? + token.len();
    major(&raw[at..])
}

/// The leading digits of `version`, if any.
fn major(version: &str) -> Option<&str> {
    let end = version
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(version.len());
    (end > 0).then(|| &version[..end])
}

fn with_version(name: &str, version: Option<&str>) -> String {
    match version {
        Some(version) => format!("{name} {version}"),
        None => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn current_browsers_on_their_systems() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/148.0.0.0 Safari/537.36",
                "Chrome 148 on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36 Edg/142.0.0.0",
                "Edge 142 on Windows",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1",
                "Safari 26 on iOS",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15",
                "Safari 26 on macOS",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0",
                "Firefox 145 on Windows",
            ),
            (
                "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0",
                "Firefox 145 on Linux",
            ),
            (
                "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/29.0 Chrome/136.0.0.0 Mobile Safari/537.36",
                "Samsung Internet 29 on Android",
            ),
            (
                "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36",
                "Chrome 142 on Android",
            ),
            (
                "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36 EdgA/142.0.0.0",
                "Edge 142 on Android",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/142.0.7444.77 Mobile/15E148 Safari/604.1",
                "Chrome 142 on iOS",
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/145.0 Mobile/15E148 Safari/605.1.15",
                "Firefox 145 on iPadOS",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36 OPR/124.0.0.0",
                "Opera 124 on Windows",
            ),
            (
                "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
                "Chrome 142 on ChromeOS",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chromium/120.0.6099.224 Chrome/120.0.6099.224 Safari/537.36",
                "Chromium 120 on Linux",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/148.0.0.0 Safari/537.36",
                "Headless Chrome 148 on Linux",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
                "Unknown browser on iOS",
            ),
        ];
        for (raw, expected) in cases {
            assert_eq!(describe(raw), expected, "{raw}");
        }
    }

    #[test]
    fn tools_and_crawlers_by_name() {
        assert_eq!(describe("curl/8.17.0"), "curl 8");
        assert_eq!(
            describe(
                "Mozilla/5.0 (Linux; Android 12; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/142.0.0.0 Mobile Safari/537.36"
            ),
            "Chrome 142 on Android"
        );
        assert_eq!(describe("python-requests/2.32.5"), "python-requests 2");
        assert_eq!(
            describe("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
            "Googlebot"
        );
        assert_eq!(
            describe(
                "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; \
                 +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36"
            ),
            "bingbot"
        );
    }

    #[test]
    fn anything_else_is_an_unknown_browser() {
        for raw in ["", "   ", "garbage", "Mozilla/5.0", "/1.0", "<script>/1"] {
            assert_eq!(describe(raw), "Unknown browser", "{raw:?}");
        }
        assert_eq!(super::describe_optional(None), "Unknown browser");
    }
}
