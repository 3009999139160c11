//! Views: what each page shows, built from the journal, content/ and the settings. A view is
//! plain data (serde) handed to a template; no HTML is made here except sanitized Markdown.
//!
//! Public pages never name a child: boards show lessons, homework, teachers, announcements.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use serde::Serialize;

use crate::config::Config;
use crate::content::{Post, PostAudience};
use crate::journal::{Audience, Class, HomeworkLink, Id, Journal, Lesson};
use crate::render::Strings;

/// Everything a view may read.
pub struct Inputs<'a> {
    pub journal: &'a Journal,
    pub config: &'a Config,
    pub posts: &'a [Post],
    pub strings: &'a Strings,
    pub today: NaiveDate,
}

#[derive(Serialize)]
pub struct SchoolView {
    pub name: String,
    pub short_name: String,
    pub address: Option<String>,
    pub contact: Option<String>,
}

#[derive(Serialize, Clone)]
pub struct ClassLink {
    pub id: Id,
    pub name: String,
    pub slug: String,
    /// Path of the class's homework page, relative to the site root.
    pub url: String,
}

#[derive(Serialize)]
pub struct GradeView {
    pub grade: i64,
    pub classes: Vec<ClassLink>,
}

#[derive(Serialize)]
pub struct AnnouncementView {
    pub title: String,
    pub date: String,
    pub date_iso: String,
    pub author: Option<String>,
    pub pinned: bool,
    /// Sanitized HTML made from the Markdown body.
    pub body_html: String,
}

#[derive(Serialize)]
pub struct IndexPage {
    pub site_title: String,
    pub school: SchoolView,
    pub announcements: Vec<AnnouncementView>,
    pub grades: Vec<GradeView>,
}

#[derive(Serialize)]
pub struct LinkView {
    pub url: String,
    pub title: String,
}

#[derive(Serialize)]
pub struct LessonView {
    pub number: i64,
    pub time: Option<String>,
    pub subject: String,
    pub group: Option<String>,
    pub teacher: Option<String>,
    pub substitute: Option<String>,
    pub room: Option<String>,
    pub topic: Option<String>,
    pub homework: Option<String>,
    pub links: Vec<LinkView>,
    pub cancelled: bool,
}

#[derive(Serialize)]
pub struct DayView {
    pub iso: String,
    pub label: String,
    pub today: bool,
    /// The holiday's name when the class is off that day.
    pub holiday: Option<String>,
    pub lessons: Vec<LessonView>,
}

#[derive(Serialize)]
pub struct WeekView {
    pub monday: String,
    pub label: String,
    pub days: Vec<DayView>,
}

#[derive(Serialize)]
pub struct HomeworkPage {
    pub site_title: String,
    pub class: ClassLink,
    pub week: WeekView,
}

impl Inputs<'_> {
    pub fn site_title(&self) -> String {
        if self.config.title.trim().is_empty() {
            self.journal.school.name.clone()
        } else {
            self.config.title.clone()
        }
    }

    fn school(&self) -> SchoolView {
        let s = &self.journal.school;
        SchoolView {
            name: s.name.clone(),
            short_name: s.short_name.clone(),
            address: s.address.clone(),
            contact: s.contact.clone(),
        }
    }

    /// The classes of the academic year that holds today, by grade then letter.
    pub fn classes(&self) -> Vec<&Class> {
        match self.journal.year_for(self.today) {
            Some(y) => self.journal.classes_of_year(y.id),
            None => Vec::new(),
        }
    }

    /// Stable, readable, unique URL names for the classes: "5Б" → "5b".
    pub fn class_links(&self) -> Vec<ClassLink> {
        let mut used: HashMap<String, usize> = HashMap::new();
        self.classes()
            .into_iter()
            .map(|c| {
                let mut slug = slug(&c.name);
                let n = used.entry(slug.clone()).or_insert(0);
                *n += 1;
                if *n > 1 {
                    slug = format!("{slug}-{}", c.id);
                }
                ClassLink {
                    id: c.id,
                    name: c.name.clone(),
                    url: format!("classes/{slug}/homework/index.html"),
                    slug,
                }
            })
            .collect()
    }

    pub fn index_page(&self, links: &[ClassLink]) -> IndexPage {
        let mut grades: BTreeMap<i64, Vec<ClassLink>> = BTreeMap::new();
        for link in links {
            if let Some(c) = self.journal.class(link.id) {
                grades.entry(c.grade).or_default().push(link.clone());
            }
        }
        IndexPage {
            site_title: self.site_title(),
            school: self.school(),
            announcements: self.school_board(),
            grades: grades
                .into_iter()
                .map(|(grade, classes)| GradeView { grade, classes })
                .collect(),
        }
    }

    /// School-wide announcements from the journal and content/, current ones only,
    /// pinned first, then newest.
    fn school_board(&self) -> Vec<AnnouncementView> {
        let mut items: Vec<Notice> = Vec::new();
        for a in &self.journal.announcements {
            if a.audience == Audience::School {
                items.push(Notice {
                    title: &a.title,
                    body_md: &a.body_md,
                    published: a.published_at,
                    expires: a.expires_at,
                    pinned: a.pinned,
                    author: a.author.as_deref(),
                });
            }
        }
        for p in self.posts {
            if p.audience == PostAudience::School {
                items.push(Notice {
                    title: &p.title,
                    body_md: &p.body_md,
                    published: p.date,
                    expires: p.expires,
                    pinned: p.pinned,
                    author: p.author.as_deref(),
                });
            }
        }
        self.board(items)
    }

    fn board(&self, mut items: Vec<Notice>) -> Vec<AnnouncementView> {
        items.retain(|n| {
            n.published.date() <= self.today && n.expires.is_none_or(|e| e.date() >= self.today)
        });
        items.sort_by(|a, b| {
            b.pinned
                .cmp(&a.pinned)
                .then(b.published.cmp(&a.published))
                .then(a.title.cmp(b.title))
        });
        items
            .into_iter()
            .map(|n| AnnouncementView {
                title: n.title.to_string(),
                date: self.strings.date(n.published.date()),
                date_iso: n.published.date().to_string(),
                author: n.author.map(str::to_string),
                pinned: n.pinned,
                body_html: markdown(n.body_md),
            })
            .collect()
    }

    /// The Monday of the week boards show: this week, or the next one once this week's
    /// school days are over.
    pub fn board_monday(&self) -> NaiveDate {
        let monday =
            self.today - Duration::days(i64::from(self.today.weekday().num_days_from_monday()));
        if self.today.weekday().number_from_monday() > u32::from(self.config.school_days) {
            monday + Duration::days(7)
        } else {
            monday
        }
    }

    /// Homework pages of every class for the week starting `monday`.
    pub fn homework_pages(&self, links: &[ClassLink], monday: NaiveDate) -> Vec<HomeworkPage> {
        let days = i64::from(self.config.school_days);
        let last = monday + Duration::days(days - 1);
        let j = self.journal;
        let mut by_class: HashMap<Id, Vec<&Lesson>> = HashMap::new();
        let mut lesson_ids = std::collections::HashSet::new();
        for l in &j.lessons {
            if l.date >= monday && l.date <= last {
                by_class.entry(l.class_id).or_default().push(l);
                lesson_ids.insert(l.id);
            }
        }
        let mut links_of: HashMap<Id, Vec<&HomeworkLink>> = HashMap::new();
        for link in &j.homework_links {
            if lesson_ids.contains(&link.lesson_id) {
                links_of.entry(link.lesson_id).or_default().push(link);
            }
        }
        let site_title = self.site_title();
        links
            .iter()
            .filter_map(|link| {
                let class = j.class(link.id)?;
                let mut lessons = by_class.remove(&class.id).unwrap_or_default();
                lessons.sort_by_key(|l| {
                    (
                        l.date,
                        l.number,
                        l.group_id.and_then(|g| j.group(g)).map(|g| g.name.as_str()),
                        l.id,
                    )
                });
                let days = (0..days)
                    .map(|i| {
                        let date = monday + Duration::days(i);
                        let todays: Vec<LessonView> = lessons
                            .iter()
                            .filter(|l| l.date == date)
                            .map(|l| self.lesson_view(l, links_of.get(&l.id)))
                            .collect();
                        let holiday = if todays.is_empty() {
                            j.holidays
                                .iter()
                                .find(|h| h.covers(date, class.grade))
                                .map(|h| h.name.clone())
                        } else {
                            None
                        };
                        DayView {
                            iso: date.to_string(),
                            label: self.strings.date_weekday(date),
                            today: date == self.today,
                            holiday,
                            lessons: todays,
                        }
                    })
                    .collect();
                Some(HomeworkPage {
                    site_title: site_title.clone(),
                    class: link.clone(),
                    week: WeekView {
                        monday: monday.to_string(),
                        label: self.strings.range(monday, last),
                        days,
                    },
                })
            })
            .collect()
    }

    fn lesson_view(&self, l: &Lesson, links: Option<&Vec<&HomeworkLink>>) -> LessonView {
        let j = self.journal;
        LessonView {
            number: l.number,
            time: j
                .bell(l.number)
                .map(|b| format!("{}–{}", b.starts_at, b.ends_at)),
            subject: j
                .subject(l.subject_id)
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            group: l.group_id.and_then(|g| j.group(g)).map(|g| g.name.clone()),
            teacher: l
                .teacher_id
                .and_then(|t| j.teacher(t))
                .map(|t| t.short_name()),
            substitute: l
                .substitute_teacher_id
                .and_then(|t| j.teacher(t))
                .map(|t| t.short_name()),
            room: l.room.clone(),
            topic: l.topic.clone(),
            homework: l.homework.clone(),
            links: links
                .map(|ls| {
                    ls.iter()
                        .filter(|k| is_web_url(&k.url))
                        .map(|k| LinkView {
                            url: k.url.trim().to_string(),
                            title: k.title.clone().unwrap_or_else(|| k.url.trim().to_string()),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            cancelled: l.cancelled,
        }
    }
}

/// An announcement from either source, while a board is sorted.
struct Notice<'a> {
    title: &'a str,
    body_md: &'a str,
    published: NaiveDateTime,
    expires: Option<NaiveDateTime>,
    pinned: bool,
    author: Option<&'a str>,
}

fn is_web_url(url: &str) -> bool {
    let u = url.trim().to_ascii_lowercase();
    u.starts_with("https://") || u.starts_with("http://")
}

/// Markdown to HTML, sanitized: scripts, event handlers, `javascript:` links and other
/// active content are dropped; links get `rel="noopener noreferrer"`. Images are dropped
/// too: a page must make no request to another host (DESIGN.md §3.6).
pub fn markdown(md: &str) -> String {
    use pulldown_cmark::{Options, Parser, html};
    let mut out = String::new();
    html::push_html(
        &mut out,
        Parser::new_ext(md, Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES),
    );
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto", "tel"].into())
        .rm_tags(["img"])
        .clean(&out)
        .to_string()
}

/// A URL name for a class: transliterated, lowercase, ASCII ("10А" → "10a").
pub fn slug(name: &str) -> String {
    let mut s = String::new();
    for ch in name.to_lowercase().chars() {
        let t = match ch {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' => "g",
            'д' => "d",
            'е' => "e",
            'ё' => "e",
            'ж' => "zh",
            'з' => "z",
            'и' => "i",
            'й' => "y",
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
            'ы' => "y",
            'э' => "e",
            'ю' => "yu",
            'я' => "ya",
            c if c.is_ascii_alphanumeric() => {
                s.push(c);
                continue;
            }
            _ => "-",
        };
        s.push_str(t);
    }
    let s = s
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if s.is_empty() { "class".into() } else { s }
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
    }

    #[test]
    fn markdown_is_sanitized() {
        let html = markdown(
            "Hi <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)> **b**",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(
            !html.contains("onerror") && !html.contains("<img"),
            "{html}"
        );
        assert!(html.contains("<strong>b</strong>"), "{html}");
    }
}
