//! The accent colour: checked for contrast when the administrator picks
//! it, and turned into the stylesheet `/site.css` that overrides the
//! accent tokens of `app.css` in both themes.
//!
//! Buttons carry white text on the accent, and links in the light theme
//! are the accent itself, so the accent must reach the WCAG AA contrast of
//! 4.5:1 against white and the light theme's greyest surface. The dark
//! theme's links are the accent lightened until they reach 4.5:1 against
//! its lightest surface.

/// The light theme's greyest surface (`--surface-2` in `app.css`).
const LIGHT_SURFACE: Rgb = Rgb(0xf1, 0xf2, 0xf8);
/// The dark theme's lightest surface (`--surface-2` in `app.css`).
const DARK_SURFACE: Rgb = Rgb(0x1e, 0x21, 0x33);
const WHITE: Rgb = Rgb(0xff, 0xff, 0xff);
const BLACK: Rgb = Rgb(0, 0, 0);

/// The contrast text needs (WCAG 2 AA, normal size).
pub const MINIMUM_CONTRAST: f64 = 4.5;

/// A colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// `#rrggbb` (either case), or `None`.
    pub fn parse(text: &str) -> Option<Self> {
        let hex = text.strip_prefix('#')?;
        if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let channel = |at: usize| u8::from_str_radix(&hex[at..at + 2], 16).ok();
        Some(Self(channel(0)?, channel(2)?, channel(4)?))
    }

    /// `#rrggbb`, lower case.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    fn luminance(self) -> f64 {
        let linear = |channel: u8| {
            let value = f64::from(channel) / 255.0;
            if value <= 0.039_28 {
                value / 12.92
            } else {
                ((value + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * linear(self.0) + 0.7152 * linear(self.1) + 0.0722 * linear(self.2)
    }

    /// `self` moved `share` (0 to 1) of the way to `other`.
    fn mix(self, other: Self, share: f64) -> Self {
        let channel = |from: u8, to: u8| {
            let value = f64::from(from) + (f64::from(to) - f64::from(from)) * share;
            // Within 0..=255 by construction.
            value.round().clamp(0.0, 255.0) as u8
        };
        Self(
            channel(self.0, other.0),
            channel(self.1, other.1),
            channel(self.2, other.2),
        )
    }
}

/// The WCAG contrast ratio of two colours (1 to 21).
pub fn contrast(one: Rgb, other: Rgb) -> f64 {
    let (a, b) = (one.luminance(), other.luminance());
    let (light, dark) = if a > b { (a, b) } else { (b, a) };
    (light + 0.05) / (dark + 0.05)
}

/// Why an accent colour cannot be used, for the settings form: `None` when
/// it can.
pub fn refusal(color: Rgb) -> Option<String> {
    let on_white = contrast(color, WHITE);
    let on_surface = contrast(color, LIGHT_SURFACE);
    (on_surface < MINIMUM_CONTRAST).then(|| {
        format!(
            "This colour is too light for white button text and links \
             ({on_white:.1}:1; at least {MINIMUM_CONTRAST}:1 is needed). Choose a darker shade."
        )
    })
}

/// `color` lightened just enough for links on the dark theme.
fn dark_theme_text(color: Rgb) -> Rgb {
    (0..=20)
        .map(|step| color.mix(WHITE, f64::from(step) * 0.05))
        .find(|candidate| contrast(*candidate, DARK_SURFACE) >= MINIMUM_CONTRAST + 0.5)
        .unwrap_or(WHITE)
}

/// The stylesheet that gives `color` to every accent token in both themes
/// (the selectors repeat `app.css`'s, which it must follow).
pub fn stylesheet(color: Rgb) -> String {
    let hover = color.mix(BLACK, 0.15).hex();
    let light_soft = color.mix(WHITE, 0.9).hex();
    let dark_text = dark_theme_text(color).hex();
    let accent = color.hex();
    let (red, green, blue) = (color.0, color.1, color.2);
    let light = format!(
        "--accent: {accent}; --accent-hover: {hover}; --accent-text: {accent}; \
         --accent-soft: {light_soft}; --focus: {accent};"
    );
    let dark = format!(
        "--accent: {accent}; --accent-hover: {hover}; --accent-text: {dark_text}; \
         --accent-soft: rgb({red} {green} {blue} / 0.16); --focus: {dark_text};"
    );
    format!(
        "/* The site's accent colour, from /admin/settings. */\n\
         :root {{ {light} }}\n\
         html[data-theme=\"dark\"] {{ {dark} }}\n\
         @media (prefers-color-scheme: dark) {{\n  \
         html:not([data-theme=\"light\"]):not([data-theme=\"dark\"]) {{ {dark} }}\n}}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stylesheets_own_accent_passes_and_a_pale_one_is_refused() {
        let indigo = Rgb::parse("#4f46e5").unwrap();
        assert!(refusal(indigo).is_none());
        assert!(refusal(Rgb::parse("#FFD700").unwrap()).is_some());
        assert!(refusal(Rgb::parse("#777777").unwrap()).is_some());
        assert!(refusal(Rgb::parse("#0f766e").unwrap()).is_none());
    }

    #[test]
    fn contrast_matches_the_wcag_examples() {
        assert!((contrast(BLACK, WHITE) - 21.0).abs() < 0.01);
        assert!((contrast(WHITE, WHITE) - 1.0).abs() < 0.01);
        // #767676 on white is the classic 4.54:1.
        assert!((contrast(Rgb::parse("#767676").unwrap(), WHITE) - 4.54).abs() < 0.01);
    }

    #[test]
    fn dark_theme_links_are_lightened_until_they_read() {
        for accent in ["#4f46e5", "#0f766e", "#b91c1c", "#000000", "#1e3a8a"] {
            let color = Rgb::parse(accent).unwrap();
            let text = dark_theme_text(color);
            assert!(contrast(text, DARK_SURFACE) >= MINIMUM_CONTRAST, "{accent}");
        }
    }

    #[test]
    fn only_six_digit_hex_colours_parse() {
        assert_eq!(
            Rgb::parse("#0F766E").map(Rgb::hex).as_deref(),
            Some("#0f766e")
        );
        for bad in ["0f766e", "#fff", "#0f766g", "#0f766e0", "", "#ééé"] {
            assert!(Rgb::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_stylesheet_sets_both_themes() {
        let css = stylesheet(Rgb::parse("#0f766e").unwrap());
        assert!(css.contains(":root { --accent: #0f766e;"));
        assert_eq!(css.matches("--accent-text").count(), 3);
        assert!(!css.contains('<'));
    }
}
