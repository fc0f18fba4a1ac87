//! The served stylesheet: text on its backgrounds reads at WCAG AA
//! (4.5:1) in both themes, the header's button keeps its colours, and a
//! field marked invalid looks it.

use crate::support::{TestApp, spawn_app};

async fn stylesheet(app: &TestApp) -> String {
    let (_, home) = app.get(&app.http, "/").await;
    let href = home
        .split("rel=\"stylesheet\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let (status, css) = app.get(&app.http, &href).await;
    assert_eq!(status, 200, "{href}");
    css
}

/// The rules of a stylesheet as (selector, declarations), at-rules'
/// insides included as if at the top (comments removed).
fn rules(css: &str) -> Vec<(String, String)> {
    let mut text = String::new();
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        text.push_str(&rest[..start]);
        rest = rest[start..]
            .split_once("*/")
            .map_or("", |(_, after)| after);
    }
    text.push_str(rest);
    text.split('}')
        .filter_map(|chunk| {
            let (selector, body) = chunk.rsplit_once('{')?;
            let selector = selector.rsplit(['{', ';']).next()?.trim();
            Some((selector.to_owned(), body.trim().to_owned()))
        })
        .filter(|(selector, _)| !selector.is_empty())
        .collect()
}

/// The `--name: value` tokens of the rule with exactly `selector`.
fn tokens(css: &str, selector: &str) -> Vec<(String, String)> {
    let (_, body) = rules(css)
        .into_iter()
        .find(|(found, _)| found == selector)
        .unwrap_or_else(|| panic!("no rule {selector}"));
    body.split(';')
        .filter_map(|declaration| {
            let (name, value) = declaration.split_once(':')?;
            let name = name.trim();
            name.starts_with("--")
                .then(|| (name.to_owned(), value.trim().to_owned()))
        })
        .collect()
}

/// `#rrggbb` or `rgb(r g b / a)` as (r, g, b, alpha).
fn colour(value: &str) -> (f64, f64, f64, f64) {
    if let Some(hex) = value.strip_prefix('#') {
        let channel = |at: usize| f64::from(u8::from_str_radix(&hex[at..at + 2], 16).unwrap());
        return (channel(0), channel(2), channel(4), 1.0);
    }
    let inside = value
        .strip_prefix("rgb(")
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("not a colour: {value}"));
    let (channels, alpha) = inside.split_once('/').unwrap_or((inside, "1"));
    let numbers: Vec<f64> = channels
        .split_whitespace()
        .map(|number| number.parse().unwrap())
        .collect();
    (
        numbers[0],
        numbers[1],
        numbers[2],
        alpha.trim().parse().unwrap(),
    )
}

fn luminance((red, green, blue): (f64, f64, f64)) -> f64 {
    let linear = |channel: f64| {
        let channel = channel / 255.0;
        if channel <= 0.040_45 {
            channel / 12.92
        } else {
            ((channel + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
}

fn contrast(first: (f64, f64, f64), second: (f64, f64, f64)) -> f64 {
    let (light, dark) = {
        let (a, b) = (luminance(first), luminance(second));
        if a > b { (a, b) } else { (b, a) }
    };
    (light + 0.05) / (dark + 0.05)
}

/// The theme's value of a token (or a literal colour), a translucent one
/// laid over the page's surface.
fn resolve(theme: &[(String, String)], light: &[(String, String)], name: &str) -> (f64, f64, f64) {
    let lookup = |name: &str| {
        theme
            .iter()
            .chain(light)
            .find(|(token, _)| token == name)
            .map(|(_, value)| value.clone())
            .unwrap_or_else(|| name.to_owned())
    };
    let (red, green, blue, alpha) = colour(&lookup(name));
    if alpha >= 1.0 {
        return (red, green, blue);
    }
    let (under_red, under_green, under_blue, _) = colour(&lookup("--surface"));
    let mix = |over: f64, under: f64| over * alpha + under * (1.0 - alpha);
    (
        mix(red, under_red),
        mix(green, under_green),
        mix(blue, under_blue),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_and_its_backgrounds_read_at_four_and_a_half_to_one_in_both_themes() {
    let app = spawn_app().await;
    let css = stylesheet(&app).await;
    let light = tokens(&css, ":root");
    let dark = tokens(&css, "html[data-theme=\"dark\"]");
    let system_dark = tokens(
        &css,
        "html:not([data-theme=\"light\"]):not([data-theme=\"dark\"])",
    );
    assert_eq!(dark, system_dark, "the two dark blocks stay identical");
    // Every pair of tokens the stylesheet sets as text and background.
    let pairs = [
        ("--text", "--bg"),
        ("--text", "--surface"),
        ("--text", "--surface-2"),
        ("--muted", "--bg"),
        ("--muted", "--surface"),
        ("--muted", "--surface-2"),
        ("--accent-text", "--bg"),
        ("--accent-text", "--surface"),
        ("--accent-text", "--surface-2"),
        ("--accent-text", "--accent-soft"),
        ("--danger-text", "--danger-soft"),
        ("--danger-text", "--surface"),
        ("--success-text", "--success-soft"),
        ("--warning-text", "--warning-soft"),
        ("--text", "--danger-soft"),
        ("#fff", "--accent"),
        ("#fff", "--accent-hover"),
        ("#fff", "--danger"),
        ("#fff", "--danger-hover"),
    ];
    for (name, theme) in [("light", &light), ("dark", &dark)] {
        for (text, background) in pairs {
            let text_colour = if text == "#fff" {
                (255.0, 255.0, 255.0)
            } else {
                resolve(theme, &light, text)
            };
            let ratio = contrast(text_colour, resolve(theme, &light, background));
            assert!(
                ratio >= 4.5,
                "{name}: {text} on {background} is {ratio:.2}:1"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_header_colours_its_links_but_leaves_the_sign_up_button_white_on_accent() {
    let app = spawn_app().await;
    let (_, home) = app.get(&app.http, "/").await;
    assert!(
        home.contains("class=\"btn btn-primary btn-sm\" href=\"/sign-up\""),
        "{home}"
    );
    let css = stylesheet(&app).await;
    for (selectors, body) in rules(&css) {
        if !body.contains("color:") {
            continue;
        }
        for selector in selectors.split(',').map(str::trim) {
            if selector.starts_with(".site-nav a") {
                assert!(
                    selector.starts_with(".site-nav a:not(.btn)"),
                    "`{selector}` would recolour the Sign up button: {body}"
                );
            }
        }
    }
}

/// The specificity of a simple selector of this stylesheet as
/// (ids, classes and attributes and pseudo-classes, elements): `:where()`
/// counts nothing, `:not()` and `:is()` count their argument.
fn specificity(selector: &str) -> (usize, usize, usize) {
    let mut text = selector.to_owned();
    while let Some(start) = text.find(":where(") {
        let mut depth = 0;
        let mut end = start;
        for (offset, character) in text[start..].char_indices() {
            match character {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = start + offset + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        text.replace_range(start..end, "");
    }
    let text = text.replace(":not(", "(").replace(":is(", "(");
    let ids = text.matches('#').count();
    let classes = text.matches('.').count() + text.matches('[').count() + text.matches(':').count()
        - 2 * text.matches("::").count();
    let elements = usize::from(text.starts_with(|c: char| c.is_ascii_alphabetic()));
    (ids, classes, elements)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_field_outweighs_the_base_field_style_and_turns_red() {
    let app = spawn_app().await;
    let css = stylesheet(&app).await;
    let all = rules(&css);
    let (base_at, (base, _)) = all
        .iter()
        .enumerate()
        .find(|(_, (selector, body))| {
            selector.contains("textarea") && body.contains("border: 1px solid var(--border-strong)")
        })
        .unwrap();
    let text_input = base
        .split(",\n")
        .chain(base.split(", "))
        .find(|selector| selector.trim().starts_with("input"))
        .unwrap()
        .trim()
        .to_owned();
    let (invalid_at, (invalid, body)) = all
        .iter()
        .enumerate()
        .find(|(_, (selector, _))| selector.starts_with("input[aria-invalid=\"true\"]"))
        .unwrap();
    assert!(body.contains("var(--danger)"), "{invalid} {{ {body} }}");
    let invalid_input = invalid.split(',').next().unwrap().trim();
    assert!(
        (specificity(invalid_input), invalid_at) > (specificity(&text_input), base_at),
        "`{invalid_input}` {:?} must win over `{text_input}` {:?}",
        specificity(invalid_input),
        specificity(&text_input)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wide_tables_and_hidden_labels_stay_inside_their_wrapper_on_a_phone() {
    let app = spawn_app().await;
    let css = stylesheet(&app).await;
    let wrapper: Vec<String> = rules(&css)
        .into_iter()
        .filter(|(selector, _)| selector == ".table-wrap")
        .map(|(_, body)| body)
        .collect();
    let all = wrapper.join(";");
    assert!(all.contains("overflow-x: auto"), "{all}");
    assert!(
        all.contains("position: relative"),
        "visually hidden text in a table must not escape the wrapper: {all}"
    );
}
