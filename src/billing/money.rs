//! Prices for people: cents to "$12.00", "€9.50", "¥1,200" or "12.00 CHF".

/// Currencies Stripe counts in whole units (no cents).
const ZERO_DECIMAL: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];

fn symbol(currency: &str) -> Option<&'static str> {
    Some(match currency {
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "JPY" => "¥",
        "INR" => "₹",
        "CAD" => "CA$",
        "AUD" => "A$",
        "NZD" => "NZ$",
        "BRL" => "R$",
        _ => return None,
    })
}

fn grouped(units: i64) -> String {
    let digits = units.abs().to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    if units < 0 {
        out.insert(0, '-');
    }
    out
}

/// `amount` (in the currency's smallest unit) for display.
pub fn format(amount: i64, currency: &str) -> String {
    let currency = currency.to_ascii_uppercase();
    let number = if ZERO_DECIMAL.contains(&currency.as_str()) {
        grouped(amount)
    } else {
        format!("{}.{:02}", grouped(amount / 100), (amount % 100).abs())
    };
    match symbol(&currency) {
        Some(symbol) => format!("{symbol}{number}"),
        None => format!("{number} {currency}"),
    }
}

/// `amount` as a plain number for a form field: "12.00", or "1200" in a
/// zero-decimal currency.
pub fn plain(amount: i64, currency: &str) -> String {
    if ZERO_DECIMAL.contains(&currency.to_ascii_uppercase().as_str()) {
        amount.to_string()
    } else {
        format!("{}.{:02}", amount / 100, (amount % 100).abs())
    }
}

/// "$12.00 / month".
pub fn per_interval(amount: i64, currency: &str, interval: &str) -> String {
    format!("{} / {interval}", format(amount, currency))
}

/// Parses "12", "12.5" or "1,200.00" into cents; `None` for anything else.
pub fn parse_cents(text: &str, currency: &str) -> Option<i32> {
    let text: String = text
        .trim()
        .chars()
        .filter(|character| *character != ',')
        .collect();
    let zero_decimal = ZERO_DECIMAL.contains(&currency.to_ascii_uppercase().as_str());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    if whole.is_empty() || !whole.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if !fraction.chars().all(|c| c.is_ascii_digit())
        || fraction.len() > 2
        || (zero_decimal && !fraction.is_empty())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let cents = if zero_decimal {
        whole
    } else {
        let fraction: i64 = format!("{fraction:0<2}").parse().ok()?;
        whole.checked_mul(100)?.checked_add(fraction)?
    };
    i32::try_from(cents).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_show_in_the_currencys_own_way() {
        assert_eq!(format(1200, "USD"), "$12.00");
        assert_eq!(format(950, "eur"), "€9.50");
        assert_eq!(format(123_456_789, "GBP"), "£1,234,567.89");
        assert_eq!(format(1200, "JPY"), "¥1,200");
        assert_eq!(format(1999, "CHF"), "19.99 CHF");
        assert_eq!(format(0, "USD"), "$0.00");
        assert_eq!(per_interval(900, "USD", "month"), "$9.00 / month");
    }

    #[test]
    fn typed_prices_become_cents() {
        assert_eq!(parse_cents("12", "USD"), Some(1200));
        assert_eq!(parse_cents("12.5", "USD"), Some(1250));
        assert_eq!(parse_cents("1,200.99", "USD"), Some(120_099));
        assert_eq!(parse_cents("1200", "JPY"), Some(1200));
        assert_eq!(parse_cents("12.5", "JPY"), None);
        assert_eq!(parse_cents("-1", "USD"), None);
        assert_eq!(parse_cents("1.234", "USD"), None);
        assert_eq!(parse_cents("abc", "USD"), None);
        assert_eq!(parse_cents("99999999999", "USD"), None);
    }
}
