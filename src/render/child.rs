//! A pupil's diary (`now`) as the default theme's `diary_child.html` writes it, written
//! here instead when the site's theme overrides neither that template nor a partial it
//! includes ([`TEMPLATES`]). Every school day renders one for every pupil, and Tera's
//! generic context (the page converted to JSON values, then looked up by name) took as long
//! as writing it directly and deflating it. A theme's own templates are rendered by Tera as
//! before; a test renders a demo school's diaries both ways and compares them byte for
//! byte, so a change of the template that is not made here too fails it.

use anyhow::Result;

use super::Strings;
use super::periods::Html;
use crate::views::{AnnouncementView, ChildPage, ChildWeek, EventView, RemarkView};

/// The theme files this module writes as they are built in: `diary_child.html` and every
/// partial it includes (weeks of the pupil's own go through `dweek.html`, which is rendered
/// by Tera, but its includes are listed so that an override of any keeps Tera's output).
pub(super) const TEMPLATES: [&str; 7] = [
    "templates/diary_child.html",
    "templates/partials/remark.html",
    "templates/partials/event.html",
    "templates/partials/announcement.html",
    "templates/partials/dweek.html",
    "templates/partials/diary_attendance.html",
    "templates/partials/diary_marks.html",
];

/// Whether a template would print an optional text: present and not empty (Tera's test).
fn shown(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

/// The page `diary_child.html` renders for `page` (with `root` "../"), `periods` its
/// marks by period, `week` a week of the pupil's own as `partials/dweek.html` renders it.
pub(super) fn child_html(
    t: &Strings,
    page: &ChildPage,
    periods: &str,
    week: impl Fn(&ChildWeek) -> Result<String>,
) -> Result<String> {
    let mut h = Html(String::with_capacity(4096 + periods.len()));
    h.raw("<article class=\"child\"");
    h.attr("data-name", &page.child.first_name);
    h.attr("data-built", &page.built_for);
    h.raw(">\n<header class=\"child-head\">\n  <h2>");
    h.text(&page.child.name);
    h.raw("</h2>\n  <p class=\"muted\">");
    for (i, part) in [
        page.child.class.as_str(),
        &page.common.school.short_name,
        t.get("diary_as_of"),
    ]
    .into_iter()
    .enumerate()
    {
        if i > 0 {
            h.raw(" · ");
        }
        h.text(part);
    }
    h.raw(" ");
    h.text(&page.as_of);
    h.raw("</p>\n</header>\n");
    if !page.attention.is_empty() {
        h.raw("\n<section class=\"attention\" aria-labelledby=\"attention-h\">\n<h3 id=\"attention-h\">");
        h.text(t.get("attention_title"));
        h.raw("</h3>\n<ul>");
        for a in &page.attention {
            h.raw("<li class=\"attention-");
            h.text(a.kind);
            h.raw("\">");
            h.text(&a.text);
            h.raw("</li>");
        }
        h.raw("</ul>\n</section>\n");
    }
    h.raw("\n\n<section class=\"dweeks\"");
    h.attr("aria-label", t.get("diary_weeks"));
    h.raw(">\n");
    for w in &page.weeks {
        match shown(&w.shared) {
            Some(shared) => h.raw(shared),
            None => h.raw(&week(w)?),
        }
    }
    h.raw("\n</section>\n");
    if !page.parts.is_empty() {
        h.raw("<ol class=\"dparts\" hidden>");
        for p in &page.parts {
            h.raw("<li");
            h.attr("data-part", &p.name);
            h.attr("data-first", &p.first);
            h.attr("data-last", &p.last);
            h.raw(">");
            h.text(&p.label);
            h.raw("</li>");
        }
        h.raw("</ol>");
    }
    h.raw("\n\n");
    if !page.debts.is_empty() {
        h.raw("\n<section class=\"debts\" aria-labelledby=\"debts-h\">\n<h3 id=\"debts-h\">");
        h.text(t.get("debts"));
        h.raw(" · ");
        h.text(&t.plural(page.debts.len() as i64, "debts"));
        h.raw("</h3>\n<ul>");
        for d in &page.debts {
            h.raw("<li><strong>");
            h.text(&d.subject);
            h.raw("</strong>, ");
            h.text(&d.date);
            if let Some(work) = shown(&d.work_type) {
                h.raw(" · ");
                h.text(work);
            }
            h.raw("</li>");
        }
        h.raw("</ul>\n</section>\n");
    }
    h.raw("\n\n");
    if !page.remarks.is_empty() {
        h.raw(
            "\n<section class=\"remarks-list\" aria-labelledby=\"remarks-h\">\n<h3 id=\"remarks-h\">",
        );
        h.text(t.get("remarks"));
        h.raw("</h3>\n<ul class=\"remarks\">");
        for r in &page.remarks {
            remark(&mut h, t, r);
        }
        h.raw("</ul>\n</section>\n");
    }
    h.raw("\n\n");
    h.raw(periods);
    h.raw("\n\n");
    if !page.announcements.is_empty() {
        h.raw("\n<section aria-labelledby=\"child-news\">\n<h3 id=\"child-news\">");
        h.text(t.get("announcements"));
        h.raw("</h3>\n");
        if page.full_news {
            for a in &page.announcements {
                announcement(&mut h, t, a);
            }
            h.raw("\n");
        } else {
            h.raw("<ul class=\"news\">");
            for a in &page.announcements {
                h.raw("<li><a href=\"../");
                h.text(&page.board_url);
                h.raw("#");
                h.text(&a.anchor);
                h.raw("\">");
                h.text(&a.title);
                h.raw("</a> <time class=\"muted\"");
                h.attr("datetime", &a.date_iso);
                h.raw(">");
                h.text(&a.date);
                h.raw("</time>");
                if a.pinned {
                    h.raw(" <span class=\"badge\">");
                    h.text(t.get("pinned"));
                    h.raw("</span>");
                }
                h.raw("</li>");
            }
            h.raw("</ul>");
        }
        h.raw("\n</section>\n");
    }
    h.raw("\n\n");
    if !page.events.is_empty() {
        h.raw("\n<section aria-labelledby=\"child-events\">\n<h3 id=\"child-events\">");
        h.text(t.get("events_soon"));
        h.raw("</h3>\n<ul class=\"events\">");
        for e in &page.events {
            event(&mut h, t, e);
        }
        h.raw("</ul>\n</section>\n");
    }
    h.raw("\n</article>\n");
    Ok(h.0)
}

/// `partials/remark.html`.
fn remark(h: &mut Html, t: &Strings, r: &RemarkView) {
    h.raw("<li class=\"remark remark-");
    h.text(r.kind);
    h.raw("\"><span class=\"badge\">");
    h.text(t.get(&format!("remark_{}", r.kind)));
    h.raw("</span> <span class=\"when\">");
    h.text(&r.date);
    if let Some(subject) = shown(&r.subject) {
        h.raw(" · ");
        h.text(subject);
    }
    h.raw("</span> <span class=\"rtext\">");
    h.text(&r.text);
    h.raw("</span>");
    if let Some(by) = shown(&r.by) {
        h.raw(" <span class=\"muted\">— ");
        h.text(by);
        h.raw("</span>");
    }
    h.raw("</li>\n");
}

/// `partials/event.html`.
fn event(h: &mut Html, t: &Strings, e: &EventView) {
    h.raw("<li class=\"event\">\n  <p class=\"when\"><time");
    h.attr("datetime", &e.date_iso);
    h.raw(">");
    h.text(&e.date);
    h.raw("</time>");
    if let Some(time) = shown(&e.time) {
        h.raw(", ");
        h.text(time);
    }
    if e.school_wide {
        h.raw(" <span class=\"badge\">");
        h.text(t.get("school_event"));
        h.raw("</span>");
    }
    h.raw("</p>\n  <p class=\"what\"><strong>");
    h.text(&e.title);
    h.raw("</strong>");
    if let Some(place) = shown(&e.place) {
        h.raw(" · ");
        h.text(place);
    }
    h.raw("</p>\n  ");
    if let Some(description) = shown(&e.description) {
        h.raw("<p class=\"desc\">");
        h.text(description);
        h.raw("</p>");
    }
    h.raw("\n</li>\n");
}

/// `partials/announcement.html`.
fn announcement(h: &mut Html, t: &Strings, a: &AnnouncementView) {
    h.raw("<article class=\"card");
    if a.pinned {
        h.raw(" pinned");
    }
    h.raw("\"");
    h.attr("id", &a.anchor);
    h.raw(">\n  <h3>");
    h.text(&a.title);
    h.raw("</h3>\n  <p class=\"meta\">");
    if a.pinned {
        h.raw("<span class=\"badge\">");
        h.text(t.get("pinned"));
        h.raw("</span> ");
    }
    h.raw("<time");
    h.attr("datetime", &a.date_iso);
    h.raw(">");
    h.text(&a.date);
    h.raw("</time>");
    for part in [shown(&a.audience), shown(&a.author)].into_iter().flatten() {
        h.raw(" · ");
        h.text(part);
    }
    h.raw("</p>\n  <div class=\"body\">");
    h.raw(&a.body_html);
    h.raw("</div>\n</article>\n");
}
