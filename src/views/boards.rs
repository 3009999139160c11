//! Announcement boards: the school's (front page) and each class's (the school's, its
//! grade's and its own, from the journal and content/). Pinned first, then newest; expired ones leave.

use chrono::NaiveDateTime;
use serde::Serialize;

use super::events::EventView;
use super::{ClassRef, Common, GradeView, Inputs, markdown};
use crate::content::PostAudience;
use crate::feeds::FeedEntry;
use crate::journal::Audience;

#[derive(Serialize, Clone)]
pub(crate) struct AnnouncementView {
    /// The element id on its board, also the feed entry's fragment.
    pub anchor: String,
    pub title: String,
    pub date: String,
    pub date_iso: String,
    pub author: Option<String>,
    pub pinned: bool,
    /// Sanitized HTML made from the Markdown body.
    pub body_html: String,
    /// Whom it is for, when narrower than the board ("5 классы").
    pub audience: Option<String>,
    #[serde(skip)]
    pub published: NaiveDateTime,
}

#[derive(Serialize)]
pub(crate) struct IndexPage {
    #[serde(flatten)]
    pub common: Common,
    pub announcements: Vec<AnnouncementView>,
    pub events: Vec<EventView>,
    pub grades: Vec<GradeView>,
}

#[derive(Serialize)]
pub(crate) struct ClassesPage {
    #[serde(flatten)]
    pub common: Common,
    pub grades: Vec<GradeView>,
}

#[derive(Serialize)]
pub(crate) struct ClassBoardPage {
    #[serde(flatten)]
    pub common: Common,
    pub class: ClassRef,
    pub announcements: Vec<AnnouncementView>,
    pub events: Vec<EventView>,
}

/// Whom a board collects announcements for.
#[derive(Clone, Copy)]
enum Board<'c> {
    School,
    Class { id: i64, grade: i64, name: &'c str },
}

impl Inputs<'_> {
    pub(crate) fn index_page(&self, refs: &[ClassRef]) -> IndexPage {
        IndexPage {
            common: self.common(),
            announcements: self.board(Board::School),
            events: self.upcoming_events(None),
            grades: self.grades(refs),
        }
    }

    pub(crate) fn classes_page(&self, refs: &[ClassRef]) -> ClassesPage {
        ClassesPage {
            common: self.common(),
            grades: self.grades(refs),
        }
    }

    pub(crate) fn class_board(&self, class: &ClassRef) -> ClassBoardPage {
        ClassBoardPage {
            common: self.common(),
            class: class.clone(),
            announcements: self.board(Board::Class {
                id: class.id,
                grade: class.grade,
                name: &class.name,
            }),
            events: self.upcoming_events(Some(class.id)),
        }
    }

    /// The school board's entries; `class` = Some: that class's board.
    pub(crate) fn board_of(&self, class: Option<&ClassRef>) -> Vec<AnnouncementView> {
        match class {
            None => self.board(Board::School),
            Some(c) => self.board(Board::Class {
                id: c.id,
                grade: c.grade,
                name: &c.name,
            }),
        }
    }

    fn board(&self, board: Board) -> Vec<AnnouncementView> {
        let grade_label = |g: i64| format!("{g} {}", self.strings.get("grade_plural"));
        // A class board carries the school's news too, marked as the whole school's.
        let school_label = self.strings.get("audience_school").to_string();
        let mut items: Vec<(bool, NaiveDateTime, AnnouncementDraft)> = Vec::new();
        for a in &self.journal.announcements {
            let audience = match (a.audience, board) {
                (Audience::School, Board::School) => None,
                (Audience::School, Board::Class { .. }) => Some(school_label.clone()),
                (Audience::Grade(g), Board::Class { grade, .. }) if g == grade => {
                    Some(grade_label(g))
                }
                (Audience::Class(c), Board::Class { id, .. }) if c == id => None,
                _ => continue,
            };
            if !self.is_current(a.published_at, a.expires_at) {
                continue;
            }
            items.push((
                a.pinned,
                a.published_at,
                AnnouncementDraft {
                    anchor: format!("a{}", a.id),
                    title: &a.title,
                    body_md: &a.body_md,
                    author: a.author.as_deref(),
                    audience,
                },
            ));
        }
        for p in self.posts {
            let audience = match (&p.audience, board) {
                (PostAudience::School, Board::School) => None,
                (PostAudience::School, Board::Class { .. }) => Some(school_label.clone()),
                (PostAudience::Grade(g), Board::Class { grade, .. }) if *g == grade => {
                    Some(grade_label(*g))
                }
                (PostAudience::Class(n), Board::Class { name, .. }) if n == name => None,
                _ => continue,
            };
            if !self.is_current(p.date, p.expires) {
                continue;
            }
            let stem = p
                .file
                .file_stem()
                .map(|s| super::slug(&s.to_string_lossy()))
                .unwrap_or_default();
            items.push((
                p.pinned,
                p.date,
                AnnouncementDraft {
                    anchor: format!("p-{stem}"),
                    title: &p.title,
                    body_md: &p.body_md,
                    author: p.author.as_deref(),
                    audience,
                },
            ));
        }
        items.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then(b.1.cmp(&a.1))
                .then(a.2.anchor.cmp(&b.2.anchor))
        });
        items
            .into_iter()
            .map(|(pinned, published, d)| AnnouncementView {
                anchor: d.anchor,
                title: d.title.to_string(),
                date: self.strings.date(published.date()),
                date_iso: published.date().to_string(),
                author: d.author.map(str::to_string),
                pinned,
                body_html: markdown(d.body_md),
                audience: d.audience,
                published,
            })
            .collect()
    }

    /// Published by today and not expired before today.
    fn is_current(&self, published: NaiveDateTime, expires: Option<NaiveDateTime>) -> bool {
        published.date() <= self.today && expires.is_none_or(|e| e.date() >= self.today)
    }

    /// Feed entries for a board page at `page_path`.
    pub(crate) fn feed_entries(
        &self,
        board: &[AnnouncementView],
        page_path: &str,
    ) -> Vec<FeedEntry> {
        let page = self.absolute(page_path);
        board
            .iter()
            .map(|a| FeedEntry {
                id: format!("{page}#{}", a.anchor),
                title: a.title.clone(),
                updated: a.published,
                html: a.body_html.clone(),
                author: a.author.clone(),
            })
            .collect()
    }
}

struct AnnouncementDraft<'a> {
    anchor: String,
    title: &'a str,
    body_md: &'a str,
    author: Option<&'a str>,
    audience: Option<String>,
}
