//! Each pupil's diary as a standalone HTML page: the same view and the same template
//! (`diary_child.html`) as the sealed online diary, wrapped in a whole document with the
//! theme's `style.css` and `diary.css` inlined, so the file opens anywhere (a USB stick, a
//! mail attachment, a printer) without the site and without a code.
//!
//! One folder per class (`diaries-5b/`), one file per pupil named by the pupil's journal id
//! (`1234.html`), plus `index.html` listing the class's pupils with links to their files.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use rayon::prelude::*;

use super::command::Who;
use crate::check::Loaded;
use crate::journal::{Class, Student};
use crate::render::{Renderer, Theme, escape_html, minify_css, minify_html};
use crate::views::{ClassParts, ClassRef, DiaryIndex, HomeworkIndex, Inputs, PartSpec, TermMarks};

/// The diaries of one class, rendered.
pub(super) struct ClassDiaries {
    /// The folder in the print folder: `diaries-5b`.
    pub folder: String,
    /// File name and HTML: one `<id>.html` per pupil, then `index.html`.
    pub files: Vec<(String, String)>,
    pub pupils: usize,
}

/// Extra rules for the standalone page: the weeks of the term up to this one are all shown
/// (the online diary pages through them with buttons), later weeks are left out.
const STANDALONE_CSS: &str = ".dweek[hidden]{display:block}\
.dweek[data-current]~.dweek{display:none}\
.dweek+.dweek{margin-top:24px;border-top:2px solid var(--line);padding-top:8px}";

/// Renders the diaries of `classes` as of `today`; one result per class, in order.
pub(super) fn render<'c>(
    loaded: &Loaded,
    theme: &Theme,
    renderer: &Renderer,
    classes: &[&'c Class],
    who: &Who,
    today: chrono::NaiveDate,
) -> Vec<(&'c Class, Result<ClassDiaries>)> {
    let j = &loaded.journal;
    let inputs = Inputs::new(
        j,
        &loaded.site.config,
        &loaded.posts,
        &renderer.strings,
        today,
    );
    let refs = inputs.class_refs();
    let hw = HomeworkIndex::new(j);
    let ix = DiaryIndex::new(j, &loaded.site.config.grading);
    let css = stylesheet(theme);
    classes
        .par_iter()
        .map(|class| {
            let result = match refs.iter().find(|r| r.id == class.id) {
                Some(r) => class_diaries(&inputs, renderer, &css, r, (&hw, &ix), who),
                None => Err(anyhow::anyhow!(
                    "class {} is not in the academic year of {today}: the diary shows the \
                     current year's classes only",
                    class.name
                )),
            };
            (*class, result)
        })
        .collect()
}

/// The theme's `style.css` and `diary.css` (minified, as the site serves them), then the
/// standalone rules.
fn stylesheet(theme: &Theme) -> String {
    let files: BTreeMap<&str, &[u8]> = theme.static_files().collect();
    let mut css = String::new();
    for name in ["style.css", "diary.css"] {
        if let Some(bytes) = files.get(name) {
            css.push_str(&String::from_utf8_lossy(&minify_css(bytes)));
            css.push('\n');
        }
    }
    css.push_str(STANDALONE_CSS);
    // The stylesheet is the theme's own, but it must not be able to end the <style> element.
    css.replace("</", "<\\/")
}

fn class_diaries(
    inputs: &Inputs,
    renderer: &Renderer,
    css: &str,
    class: &ClassRef,
    (hw, ix): (&HomeworkIndex, &DiaryIndex),
    who: &Who,
) -> Result<ClassDiaries> {
    let j = inputs.journal;
    let mut pupils: Vec<&Student> = j
        .students
        .iter()
        .filter(|s| s.class_id == class.id && who.keeps(j, s))
        .collect();
    if pupils.is_empty() {
        bail!("{}", who.nobody(&class.name));
    }
    pupils.sort_by(|a, b| {
        (&a.last_name, &a.first_name, &a.middle_name, a.id).cmp(&(
            &b.last_name,
            &b.first_name,
            &b.middle_name,
            b.id,
        ))
    });
    // On paper: the current term's weeks so far, then this week and next.
    let earlier = current_part(inputs, class);
    let mondays: Vec<chrono::NaiveDate> = earlier
        .iter()
        .flat_map(|p| p.mondays.iter().copied())
        .chain(inputs.now_mondays())
        .collect();
    let parts = renderer.diary_class_parts(inputs, class, hw, &mondays, true)?;
    let mut files: Vec<(String, String)> = pupils
        .par_iter()
        .map(|s| {
            let html = pupil_page(inputs, renderer, css, s, class, &parts, hw, ix, &earlier)
                .with_context(|| format!("rendering the diary of pupil id {}", s.id))?;
            Ok((format!("{}.html", s.id), html))
        })
        .collect::<Result<_>>()?;
    files.push((
        "index.html".into(),
        class_index(inputs, css, class, &pupils),
    ));
    Ok(ClassDiaries {
        folder: format!("diaries-{}", class.slug),
        pupils: pupils.len(),
        files,
    })
}

/// The earlier part of the current term of a class (its weeks before this one), if any.
fn current_part(inputs: &Inputs, class: &ClassRef) -> Option<PartSpec> {
    let term = inputs
        .journal
        .class(class.id)
        .and_then(|c| inputs.current_term(c))?;
    let name = PartSpec::name_of(term.starts_on);
    inputs
        .diary_parts(class.id)
        .into_iter()
        .find(|p| p.name == name)
}

/// One pupil's standalone page.
#[allow(clippy::too_many_arguments)]
fn pupil_page(
    inputs: &Inputs,
    renderer: &Renderer,
    css: &str,
    student: &Student,
    class: &ClassRef,
    parts: &ClassParts,
    hw: &HomeworkIndex,
    ix: &DiaryIndex,
    earlier: &Option<PartSpec>,
) -> Result<String> {
    // Away from the site nothing more can be fetched: announcements in full, and every
    // term's marks one by one.
    let mut page = inputs.child_page(student, class, parts, hw, ix, &[], TermMarks::Every);
    page.full_news = true;
    if let Some(spec) = earlier {
        let mut weeks = inputs.child_part(student, class, parts, hw, ix, spec).weeks;
        weeks.append(&mut page.weeks);
        page.weeks = weeks;
    }
    // The fragment exactly as the sealed diary holds it (src/seal_diaries/).
    let fragment = parts.expand(&renderer.diary_child(&page)?);
    // On paper every period's marks are shown, not only the current period's.
    let fragment = fragment.replace(
        "<details class=\"period\">",
        "<details class=\"period\" open>",
    );
    let t = inputs.strings;
    let title = format!(
        "{} · {} · {}",
        t.get("diary"),
        student.full_name(),
        class.name
    );
    let html = document(
        t.lang,
        &title,
        css,
        &format!(
            "<main id=\"main\">\n<h1>{}</h1>\n<div class=\"diary\">\n{fragment}\n</div>\n</main>",
            escape_html(t.get("diary"))
        ),
    );
    // Minified like the site's pages: a diary goes on a USB stick or into a mail.
    Ok(String::from_utf8(minify_html(&html))?)
}

/// `index.html` of a class's folder: its pupils, each with a link to their file.
fn class_index(inputs: &Inputs, css: &str, class: &ClassRef, pupils: &[&Student]) -> String {
    let t = inputs.strings;
    let title = format!("{} · {}", t.get("diary"), class.name);
    let mut body = format!(
        "<main id=\"main\">\n<h1>{}</h1>\n<p class=\"muted\">{} · {} {}</p>\n<ol>\n",
        escape_html(&title),
        escape_html(&inputs.journal.school.short_name),
        escape_html(t.get("diary_as_of")),
        escape_html(&t.date(inputs.today)),
    );
    for s in pupils {
        body.push_str(&format!(
            "<li><a href=\"{}.html\">{}</a></li>\n",
            s.id,
            escape_html(&s.full_name())
        ));
    }
    body.push_str("</ol>\n</main>");
    document(t.lang, &title, css, &body)
}

/// A whole HTML document that loads nothing: no scripts, no requests (the CSP says so).
fn document(lang: &str, title: &str, css: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; img-src data:\">\n\
         <meta name=\"robots\" content=\"noindex, nofollow\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <title>{}</title>\n<style>\n{css}\n</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n",
        escape_html(title)
    )
}
