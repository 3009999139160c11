//! A pupil's diary (`now`) as the default theme's `diary_child.html` writes it, written
//! here instead when the site's theme overrides neither that template nor a partial it
//! includes ([`TEMPLATES`]). Every school day renders one for every pupil, and Tera's
//! generic context (the page converted to JSON values, then looked up by name) took as long
//! as writing it directly and deflating it. A theme's own templates are rendered by Tera as
//! before; a test renders a demo school's diaries both ways and compares them byte for
//! byte, so a change of the template that is not made here too fails it.

use anyhow::Result;

use super::Strings;
use super::html::Html;
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
    h.text(&page.child.class);
    h.raw(" · ");
    h.text(&page.common.school.short_name);
    h.raw(" · ");
    h.text(t.get("diary_as_of"));
    h.raw(" ");
    h.text(&page.as_of);
    h.raw("</p>\n</header>\n");
    section(
        &mut h,
        ("attention", "attention-h"),
        |h| h.text(t.get("attention_title")),
        "<ul>",
        &page.attention,
        |h, a| {
            h.raw("<li class=\"attention-");
            h.text(a.kind);
            h.raw("\">");
            h.text(&a.text);
            h.raw("</li>");
        },
    );
    h.raw("\n\n<section class=\"dweeks\"");
    h.attr("aria-label", t.get("diary_weeks"));
    h.raw(">\n");
    for w in &page.weeks {
        // `{% if w.shared %}`: an empty text is no text.
        match w.shared.as_deref().filter(|s| !s.is_empty()) {
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
    section(
        &mut h,
        ("debts", "debts-h"),
        |h| {
            h.text(t.get("debts"));
            h.raw(" · ");
            h.text(&t.plural(page.debts.len() as i64, "debts"));
        },
        "<ul>",
        &page.debts,
        |h, d| {
            h.raw("<li><strong>");
            h.text(&d.subject);
            h.raw("</strong>, ");
            h.text(&d.date);
            h.wrap(" · ", d.work_type.as_deref(), "");
            h.raw("</li>");
        },
    );
    h.raw("\n\n");
    section(
        &mut h,
        ("remarks-list", "remarks-h"),
        |h| h.text(t.get("remarks")),
        "<ul class=\"remarks\">",
        &page.remarks,
        |h, r| remark(h, t, r),
    );
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
                h.raw("</a> ");
                time(&mut h, " class=\"muted\"", &a.date_iso, &a.date);
                h.wrap(
                    " <span class=\"badge\">",
                    a.pinned.then(|| t.get("pinned")),
                    "</span>",
                );
                h.raw("</li>");
            }
            h.raw("</ul>");
        }
        h.raw("\n</section>\n");
    }
    h.raw("\n\n");
    section(
        &mut h,
        ("", "child-events"),
        |h| h.text(t.get("events_soon")),
        "<ul class=\"events\">",
        &page.events,
        |h, e| event(h, t, e),
    );
    h.raw("\n</article>\n");
    Ok(h.0)
}

/// A section the template shows only with items: `<section class="{class}"` (no class
/// when empty) `aria-labelledby="{id}">`, its heading as `title` writes it (only when
/// shown), the list opened by `list` (closed by `</ul>`) with each item.
fn section<T>(
    h: &mut Html,
    (class, id): (&str, &str),
    title: impl FnOnce(&mut Html),
    list: &str,
    items: &[T],
    mut item: impl FnMut(&mut Html, &T),
) {
    if items.is_empty() {
        return;
    }
    h.raw("\n<section");
    h.wrap(" class=\"", Some(class), "\"");
    h.attr("aria-labelledby", id);
    h.raw(">\n<h3");
    h.attr("id", id);
    h.raw(">");
    title(h);
    h.raw("</h3>\n");
    h.raw(list);
    for i in items {
        item(h, i);
    }
    h.raw("</ul>\n</section>\n");
}

/// `<time{attributes} datetime="{iso}">{text}</time>`.
fn time(h: &mut Html, attributes: &str, iso: &str, text: &str) {
    h.raw("<time");
    h.raw(attributes);
    h.attr("datetime", iso);
    h.raw(">");
    h.text(text);
    h.raw("</time>");
}

/// `partials/remark.html`.
fn remark(h: &mut Html, t: &Strings, r: &RemarkView) {
    h.raw("<li class=\"remark remark-");
    h.text(r.kind);
    h.raw("\"><span class=\"badge\">");
    h.text(t.get(&format!("remark_{}", r.kind)));
    h.raw("</span> <span class=\"when\">");
    h.text(&r.date);
    h.wrap(" · ", r.subject.as_deref(), "");
    h.raw("</span> <span class=\"rtext\">");
    h.text(&r.text);
    h.raw("</span>");
    h.wrap(" <span class=\"muted\">— ", r.by.as_deref(), "</span>");
    h.raw("</li>\n");
}

/// `partials/event.html`.
fn event(h: &mut Html, t: &Strings, e: &EventView) {
    h.raw("<li class=\"event\">\n  <p class=\"when\">");
    time(h, "", &e.date_iso, &e.date);
    h.wrap(", ", e.time.as_deref(), "");
    let school_wide = e.school_wide.then(|| t.get("school_event"));
    h.wrap(" <span class=\"badge\">", school_wide, "</span>");
    h.raw("</p>\n  <p class=\"what\"><strong>");
    h.text(&e.title);
    h.raw("</strong>");
    h.wrap(" · ", e.place.as_deref(), "");
    h.raw("</p>\n  ");
    h.wrap("<p class=\"desc\">", e.description.as_deref(), "</p>");
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
    h.wrap(
        "<span class=\"badge\">",
        a.pinned.then(|| t.get("pinned")),
        "</span> ",
    );
    time(h, "", &a.date_iso, &a.date);
    h.wrap(" · ", a.audience.as_deref(), "");
    h.wrap(" · ", a.author.as_deref(), "");
    h.raw("</p>\n  <div class=\"body\">");
    h.raw(&a.body_html);
    h.raw("</div>\n</article>\n");
}
