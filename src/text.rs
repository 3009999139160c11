//! Text helpers shared by every step: HTML escaping, Latin spellings of Russian words.

/// The Latin letters of a lowercase Russian letter (`None` for anything else), after the
/// common passport-like table: `ж` → `zh`, `х` → `h`, `щ` → `sch`, `ъ`/`ь` dropped.
pub(crate) fn latin(c: char) -> Option<&'static str> {
    Some(match c {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' => "g",
        'д' => "d",
        'е' | 'ё' | 'э' => "e",
        'ж' => "zh",
        'з' => "z",
        'и' => "i",
        'й' | 'ы' => "y",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' => "u",
        'ф' => "f",
        'х' => "h",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "sch",
        'ъ' | 'ь' => "",
        'ю' => "yu",
        'я' => "ya",
        _ => return None,
    })
}

/// A URL name for a class: transliterated, lowercase, ASCII ("10А" → "10a"); anything
/// that is neither a letter nor a digit becomes one `-`.
pub(crate) fn slug(name: &str) -> String {
    let mut s = String::new();
    for ch in name.to_lowercase().chars() {
        match latin(ch) {
            Some(t) => s.push_str(t),
            None if ch.is_ascii_alphanumeric() => s.push(ch),
            None => s.push('-'),
        }
    }
    let s = s
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if s.is_empty() { "class".into() } else { s }
}

/// Escapes text for HTML and XML: `& < > " '` (Tera's default also escapes `/`, which
/// makes every path in the output unreadable). Control characters other than tab and line
/// ends are dropped: HTML does not allow them, and a diary page uses two of them to mark
/// where a lesson's shared HTML goes.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() && (c as u32) < 0x20 => {}
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("5Б"), "5b");
        assert_eq!(slug("10 Ж"), "10-zh");
        assert_eq!(slug("11А1"), "11a1");
        assert_eq!(slug("!!"), "class");
        assert_eq!(slug("Хор щ"), "hor-sch");
    }
}
