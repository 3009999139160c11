//! Fitting a family's sheet onto its pages.
//!
//! CSS cannot shrink text to fit a page, so a sheet's height is estimated here from its
//! text and the measures of `templates/print/base.html` (fixed column widths in mm, line
//! height, cell padding), and the sheet gets the largest font size that fits. Text is
//! wrapped word by word with the advance widths of each character in the stylesheet's
//! first two fonts (DejaVu Sans and Liberation Sans, the wider of the two, as Chromium
//! measures them), so either font, or a narrower one such as Arial, fits. Keep the
//! constants here in step with that stylesheet.

/// Millimetres per typographic point.
pub(super) const MM_PER_PT: f32 = 25.4 / 72.0;
/// Height of the printable area of a portrait A4 page (297 mm less 2 × 10 mm margins),
/// less a safety margin for rounding in the browser.
pub(super) const PAGE_MM: f32 = 277.0 - 5.0;
/// Width of the printable area of a portrait A4 page.
pub(super) const WIDTH_MM: f32 = 190.0;
/// Line height of sheet text, in ems (`line-height` in base.html).
pub(super) const LINE: f32 = 1.25;
/// Advance of a character not in [`WIDTHS`], in ems.
const UNKNOWN_EM: f32 = 0.8;
/// Vertical padding plus border of a table cell, in mm (`td { padding: .4mm 1mm }`).
pub(super) const CELL_V_MM: f32 = 1.0;
/// Horizontal padding plus border of a table cell, in mm.
pub(super) const CELL_H_MM: f32 = 2.3;

/// Font sizes a sheet may take, largest first (points): 9.5 down to 6 by quarters.
pub(super) const SIZES: [f32; 15] = [
    9.5, 9.25, 9.0, 8.75, 8.5, 8.25, 8.0, 7.75, 7.5, 7.25, 7.0, 6.75, 6.5, 6.25, 6.0,
];

/// Height in mm of `n` lines at `pt` points.
pub(super) fn line_mm(pt: f32, n: usize) -> f32 {
    n as f32 * pt * MM_PER_PT * LINE
}

/// The advance width of a character in ems: the wider of DejaVu Sans and Liberation Sans.
pub(super) fn char_em(c: char) -> f32 {
    match WIDTHS.binary_search_by_key(&c, |(ch, _)| *ch) {
        Ok(i) => f32::from(WIDTHS[i].1) / 1000.0,
        Err(_) if c.is_whitespace() => 0.35,
        Err(_) => UNKNOWN_EM,
    }
}

/// The width of a text on one line, in ems.
pub(super) fn text_em(text: &str) -> f32 {
    text.chars().map(char_em).sum()
}

/// How many lines `text` takes, wrapped at spaces (a word too long for a line is broken),
/// in a box `width_mm` wide at `pt` points. Empty text takes one line (an empty cell still
/// has a line's height); `\n` starts a new line.
pub(super) fn lines(text: &str, width_mm: f32, pt: f32) -> usize {
    let line = width_mm / (pt * MM_PER_PT);
    let space = char_em(' ');
    let mut total = 0;
    for paragraph in text.split('\n') {
        let mut n = 1;
        let mut used = 0.0;
        for word in paragraph.split_whitespace() {
            let w = text_em(word);
            if used > 0.0 && used + space + w <= line {
                used += space + w;
                continue;
            }
            if used > 0.0 {
                n += 1;
            }
            used = 0.0;
            for c in word.chars() {
                let cw = char_em(c);
                if used + cw > line && used > 0.0 {
                    n += 1;
                    used = 0.0;
                }
                used += cw;
            }
        }
        total += n;
    }
    total.max(1)
}

/// The height in mm of a table row whose cells hold `cells` (text, column width in mm, font
/// size relative to the sheet's), at sheet size `pt`.
pub(super) fn row_mm(pt: f32, cells: &[(&str, f32, f32)]) -> f32 {
    let tallest = cells
        .iter()
        .map(|(text, width, rel)| line_mm(pt * rel, lines(text, width - CELL_H_MM, pt * rel)))
        .fold(0.0, f32::max);
    tallest.max(line_mm(pt, 1)) + CELL_V_MM
}

/// The height in mm of a table's heading row: each column's heading, in bold at 0.9 of the
/// sheet's size (bold is taken as a tenth wider).
pub(super) fn heading_row_mm(pt: f32, headings: &[(String, f32)]) -> f32 {
    let cells: Vec<(&str, f32, f32)> = headings
        .iter()
        .map(|(text, width)| (text.as_str(), *width / 1.1, 0.9))
        .collect();
    row_mm(pt, &cells)
}

/// The largest size of [`SIZES`] at which `height(pt)` stays within `budget_mm`, or None.
pub(super) fn largest_fitting(budget_mm: f32, height: impl Fn(f32) -> f32) -> Option<f32> {
    SIZES.into_iter().find(|&pt| height(pt) <= budget_mm)
}

/// Shortens a text to at most `max` characters, ending it with "…".
pub(super) fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s = s.trim_end().to_string();
    s.push('…');
    s
}

/// Advance widths in thousandths of an em: for each character the wider of DejaVu Sans
/// and Liberation Sans (regular), sorted by character.
#[rustfmt::skip]
const WIDTHS: &[(char, u16)] = &[
    (' ', 318), ('!', 401), ('"', 460), ('#', 838), ('$', 636), ('%', 950), ('&', 780),
    ('\'', 275), ('(', 390), (')', 390), ('*', 500), ('+', 838), (',', 318), ('-', 361),
    ('.', 318), ('/', 337), ('0', 636), ('1', 636), ('2', 636), ('3', 636), ('4', 636),
    ('5', 636), ('6', 636), ('7', 636), ('8', 636), ('9', 636), (':', 337), (';', 337),
    ('<', 838), ('=', 838), ('>', 838), ('?', 556), ('@', 1015), ('A', 684), ('B', 686),
    ('C', 722), ('D', 770), ('E', 667), ('F', 611), ('G', 778), ('H', 752), ('I', 295),
    ('J', 500), ('K', 667), ('L', 557), ('M', 863), ('N', 748), ('O', 787), ('P', 667),
    ('Q', 787), ('R', 722), ('S', 667), ('T', 611), ('U', 732), ('V', 684), ('W', 989),
    ('X', 685), ('Y', 667), ('Z', 685), ('[', 390), ('\\', 337), (']', 390), ('^', 838),
    ('_', 556), ('`', 500), ('a', 613), ('b', 635), ('c', 550), ('d', 635), ('e', 615),
    ('f', 352), ('g', 635), ('h', 634), ('i', 278), ('j', 278), ('k', 579), ('l', 278),
    ('m', 974), ('n', 634), ('o', 612), ('p', 635), ('q', 635), ('r', 411), ('s', 521),
    ('t', 392), ('u', 634), ('v', 592), ('w', 818), ('x', 592), ('y', 592), ('z', 525),
    ('{', 636), ('|', 337), ('}', 636), ('~', 838), ('§', 556), ('«', 612), ('·', 318),
    ('»', 612), ('×', 838), ('Ѐ', 667), ('Ё', 667), ('Ђ', 865), ('Ѓ', 610), ('Є', 719),
    ('Ѕ', 667), ('І', 295), ('Ї', 295), ('Ј', 500), ('Љ', 1094), ('Њ', 1045), ('Ћ', 854),
    ('Ќ', 710), ('Ѝ', 748), ('Ў', 635), ('Џ', 752), ('А', 684), ('Б', 686), ('В', 686),
    ('Г', 610), ('Д', 781), ('Е', 667), ('Ж', 1077), ('З', 641), ('И', 748), ('Й', 748),
    ('К', 710), ('Л', 752), ('М', 863), ('Н', 752), ('О', 787), ('П', 752), ('Р', 667),
    ('С', 722), ('Т', 611), ('У', 635), ('Ф', 861), ('Х', 685), ('Ц', 776), ('Ч', 686),
    ('Ш', 1069), ('Щ', 1094), ('Ъ', 833), ('Ы', 885), ('Ь', 686), ('Э', 719), ('Ю', 1080),
    ('Я', 722), ('а', 613), ('б', 617), ('в', 589), ('г', 525), ('д', 691), ('е', 615),
    ('ж', 901), ('з', 532), ('и', 650), ('й', 650), ('к', 604), ('л', 639), ('м', 754),
    ('н', 654), ('о', 612), ('п', 654), ('р', 635), ('с', 550), ('т', 583), ('у', 592),
    ('ф', 855), ('х', 592), ('ц', 681), ('ч', 591), ('ш', 915), ('щ', 942), ('ъ', 707),
    ('ы', 790), ('ь', 589), ('э', 549), ('ю', 842), ('я', 602), ('ѐ', 615), ('ё', 615),
    ('ђ', 625), ('ѓ', 525), ('є', 549), ('ѕ', 521), ('і', 278), ('ї', 278), ('ј', 278),
    ('љ', 906), ('њ', 898), ('ћ', 652), ('ќ', 604), ('ѝ', 650), ('ў', 592), ('џ', 654),
    ('–', 556), ('—', 1000), ('‘', 318), ('’', 318), ('“', 518), ('”', 518), ('„', 518),
    ('•', 590), ('…', 1000), ('№', 1073), ('−', 838),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_words() {
        // Ten zeros to a line.
        let w = 10.0 * char_em('0') * 8.0 * MM_PER_PT + 0.01;
        assert_eq!(lines("", w, 8.0), 1);
        assert_eq!(lines("000 000", w, 8.0), 1);
        assert_eq!(lines("00000 00000", w, 8.0), 2);
        assert_eq!(lines("000000000000000000000", w, 8.0), 3);
        assert_eq!(lines("0\n0", w, 8.0), 2);
        assert!(char_em('ш') > char_em('г'));
        assert_eq!(char_em('中'), UNKNOWN_EM);
    }

    #[test]
    fn picks_the_largest_size_that_fits() {
        assert_eq!(largest_fitting(100.0, |pt| pt * 10.0), Some(9.5));
        assert_eq!(largest_fitting(72.0, |pt| pt * 10.0), Some(7.0));
        assert_eq!(largest_fitting(74.0, |pt| pt * 10.0), Some(7.25));
        assert_eq!(largest_fitting(10.0, |pt| pt * 10.0), None);
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
    }
}
