//! `Accept-Language` (RFC 9110, section 12.5.4): language ranges with
//! optional weights, `de-DE,de;q=0.9,en;q=0.8`.

use super::Language;

/// The complete language the header ranks highest (the earlier range wins
/// a tie); none when it names no complete language, or only with `q=0`.
pub(super) fn best(header: &str) -> Option<Language> {
    let mut best: Option<(u16, Language)> = None;
    for range in header.split(',').take(32) {
        let mut parts = range.split(';');
        let tag = parts.next().unwrap_or_default().trim();
        let weight = parts
            .find_map(|parameter| {
                let (name, value) = parameter.split_once('=')?;
                name.trim().eq_ignore_ascii_case("q").then(|| weight(value))
            })
            .unwrap_or(Some(1000));
        let (Some(weight), Some(language)) = (weight, Language::parse(tag)) else {
            continue;
        };
        if weight > 0 && best.is_none_or(|(highest, _)| weight > highest) {
            best = Some((weight, language));
        }
    }
    best.map(|(_, language)| language)
}

/// A weight `0` to `1` with up to three decimals, in thousandths.
fn weight(text: &str) -> Option<u16> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}
