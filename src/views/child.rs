//! A child's diary: the chunks sealed for that child's family (never published in clear,
//! docs/access.md). The `now` chunk: this week and next with the child's marks and
//! attendance, marks by subject for each period (weighted average, forecast, the teacher's
//! mark), attendance totals, debts, the class's announcements and events, and the list of
//! earlier parts. An earlier part: the weeks of one term before this week.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{Duration, NaiveDate};
use rustc_hash::FxHashMap;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::homework::{HomeworkIndex, LessonView};
use super::{AnnouncementView, ClassRef, Common, EventView, Inputs, RemarkView, monday_of};
use crate::grades::{self, Attestation, Weights};
use crate::journal::{
    Attendance, AttendanceStatus, ByPupil, Id, Journal, Mark, PeriodKind, PeriodMark, Student,
    WeeklyHours,
};

#[derive(Serialize)]
pub(crate) struct MarkView {
    pub value: String,
    pub work_type: Option<String>,
    /// Shown when the mark weighs other than 1: "×2".
    pub weight: Option<String>,
    pub comment: Option<String>,
    pub debt: bool,
}

/// A lesson's HTML as every pupil of the class sees it, rendered once per class by the
/// theme's `partials/diary_lesson.html` and cut where a pupil's own lines go: their
/// attendance after `head`, their marks after `middle`.
#[derive(Serialize, Clone, Default)]
pub(crate) struct LessonHtml {
    pub head: Arc<str>,
    pub middle: Arc<str>,
    pub tail: Arc<str>,
}

/// Where `partials/diary_lesson.html` leaves room for the pupil's attendance and marks.
pub(super) const ATTENDANCE_MARK: &str = "<!--attendance-->";
pub(super) const MARKS_MARK: &str = "<!--marks-->";

impl LessonHtml {
    /// Cuts a rendered lesson at its two marks; a theme that leaves a mark out gets the
    /// pupil's lines at the end.
    pub(crate) fn split(html: &str) -> LessonHtml {
        let (head, rest) = html.split_once(ATTENDANCE_MARK).unwrap_or((html, ""));
        let (middle, tail) = rest.split_once(MARKS_MARK).unwrap_or((rest, ""));
        LessonHtml {
            head: head.into(),
            middle: middle.into(),
            tail: tail.into(),
        }
    }
}

/// A diary lesson's place holders for the class's shared HTML: short tokens that
/// [`ClassParts::expand`] replaces once the page is rendered, so that each pupil's page
/// neither copies nor hashes the class's lessons again. A template sees `l.head`, `l.middle`
/// and `l.tail` as HTML (`{{ l.head | safe }}`).
#[derive(Serialize)]
pub(crate) struct LessonTokens {
    pub head: String,
    pub middle: String,
    pub tail: String,
}

/// Tokens are `\u{1}<index><h|m|t>\u{2}`; escaped journal text never holds these control
/// characters (see [`crate::text::escape_html`]).
const TOKEN_START: char = '\u{1}';
/// The attribute that names where a pupil's own lines go in a shared week
/// ([`ClassParts::placed_week`]).
const OWN_PLACE: &str = "data-o";
const TOKEN_END: char = '\u{2}';

impl LessonTokens {
    fn new(index: usize) -> LessonTokens {
        let t = |part: char| format!("{TOKEN_START}{index}{part}{TOKEN_END}");
        LessonTokens {
            head: t('h'),
            middle: t('m'),
            tail: t('t'),
        }
    }
}

#[derive(Serialize)]
pub(crate) struct ChildLesson {
    /// Where the class's HTML of the lesson goes (see [`LessonHtml`]).
    #[serde(flatten)]
    pub html: LessonTokens,
    /// The lesson's place in [`ClassParts::lessons`].
    #[serde(skip)]
    pub index: usize,
    pub marks: Vec<MarkView>,
    /// `absent`, `ill`, `excused`, `unexcused` or `late`.
    pub attendance: Option<&'static str>,
    pub attendance_note: Option<String>,
}

/// A pupil's own lines of a lesson, rendered by the theme's `partials/diary_lines.html`:
/// what goes after the lesson's head (attendance) and after its middle (marks).
pub(crate) type LineHtml = Arc<(String, String)>;

impl ChildLesson {
    /// What this lesson's own lines hold, the lesson aside: pupils with the same key get the
    /// same HTML, rendered once.
    pub(crate) fn lines_key(&self) -> serde_json::Result<String> {
        serde_json::to_string(&(&self.attendance, &self.attendance_note, &self.marks))
    }

    /// This lesson's own lines as lesson 0's, to render once for every pupil with the same
    /// [`ChildLesson::lines_key`].
    pub(crate) fn as_first(&self) -> impl Serialize + '_ {
        #[derive(Serialize)]
        struct Line<'a> {
            #[serde(flatten)]
            html: LessonTokens,
            marks: &'a [MarkView],
            attendance: Option<&'static str>,
            attendance_note: &'a Option<String>,
        }
        Line {
            html: LessonTokens::new(0),
            marks: &self.marks,
            attendance: self.attendance,
            attendance_note: &self.attendance_note,
        }
    }
}

/// [`ChildLesson::as_first`]'s lines as rendered, cut at lesson 0's tokens.
pub(crate) fn first_lines(html: &str) -> LineHtml {
    let (mut attendance, mut marks) = (String::new(), String::new());
    let mut last: Option<(char, usize)> = None;
    let mut put = |part: char, text: &str| match part {
        'h' => attendance.push_str(text),
        'm' => marks.push_str(text),
        _ => {}
    };
    for (start, end, token) in tokens(html) {
        if let Some((part, from)) = last {
            put(part, &html[from..start]);
        }
        last = token.filter(|t| t.0 == 0).map(|t| (t.1, end));
    }
    if let Some((part, from)) = last {
        put(part, &html[from..]);
    }
    Arc::new((attendance, marks))
}

pub(crate) type ChildDay = super::Day<ChildLesson>;

#[derive(Serialize)]
pub(crate) struct ChildWeek {
    pub monday: String,
    pub label: String,
    pub current: bool,
    pub days: Vec<ChildDay>,
    /// A place holder for the week as the class shares it, which stands for the week's
    /// days (see [`ClassParts::share_weeks`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct MarkBrief {
    pub value: String,
    pub date: String,
    pub title: String,
}

#[derive(Serialize)]
pub(crate) struct SubjectRow {
    pub subject: String,
    pub marks: Vec<MarkBrief>,
    pub average: Option<String>,
    /// `final` (the teacher's mark), `forecast`, `not_enough` or `none` (grade 1).
    pub state: &'static str,
    pub mark: Option<String>,
    /// The teacher's comment on the period mark, once the mark is final.
    pub comment: Option<String>,
    pub count: usize,
    pub needed: usize,
    /// The current period's marks for the "what it takes" panel, in
    /// `grades::takes_marks`' format; `None` elsewhere and once the teacher's mark is set.
    pub takes: Option<String>,
    /// The fewest marks this subject needs (`Grading::min_marks_for` its hours).
    pub takes_min: usize,
}

#[derive(Serialize, Default)]
pub(crate) struct AttendanceTotals {
    pub absent: usize,
    pub ill: usize,
    pub excused: usize,
    pub unexcused: usize,
    pub late: usize,
}

#[derive(Serialize)]
pub(crate) struct PeriodView {
    pub name: String,
    pub dates: String,
    pub current: bool,
    pub is_year: bool,
    /// A term other than the current one: its average and mark without the marks one by
    /// one (they are in its weeks), which keeps the `now` chunk small.
    pub brief: bool,
    /// An exam or the final marks: only the teacher's marks, shown once set.
    pub exam: bool,
    pub subjects: Vec<SubjectRow>,
    pub attendance: AttendanceTotals,
    /// The rules of the "what it takes" panel (`grades::TakesRules` as JSON), for the
    /// current term of a pupil who gets marks.
    pub takes_rules: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct DebtView {
    pub subject: String,
    pub date: String,
    pub work_type: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct ChildView {
    pub name: String,
    pub first_name: String,
    pub class: String,
}

#[derive(Serialize)]
pub(crate) struct ChildPage {
    #[serde(flatten)]
    pub common: Common,
    pub child: ChildView,
    /// Grade 1: no marks anywhere.
    pub no_marks: bool,
    pub as_of: String,
    /// The day it was built for (YYYY-MM-DD): the unlock page opens on the week of the
    /// device's day when a diary built a day or two before falls in the week before.
    pub built_for: String,
    /// What the class teacher would tell the family about (failing, too few marks,
    /// absences, debts), in plain words, shown at the top.
    pub attention: Vec<super::Warning>,
    /// This week and next.
    pub weeks: Vec<ChildWeek>,
    /// The earlier parts of the year, oldest first, each a chunk of its own.
    pub parts: Vec<PartRef>,
    /// Rendered by the code, not the template (`Renderer::diary_child`).
    #[serde(skip)]
    pub periods: Vec<PeriodView>,
    pub debts: Vec<DebtView>,
    /// Teachers' remarks of the current term so far, newest first.
    pub remarks: Vec<RemarkView>,
    pub announcements: Vec<AnnouncementView>,
    /// The class board, relative to the site root: a sealed diary lists announcements by
    /// title with a link there (they are public), which keeps the `now` chunk small.
    pub board_url: String,
    /// Announcements in full (a printed diary, read away from the site).
    pub full_news: bool,
    pub events: Vec<EventView>,
}

/// Which terms of a diary list their marks one by one (every period shows its averages
/// and marks by subject).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TermMarks {
    /// The current term only: the others have them in their weeks, in the earlier parts
    /// (the sealed diary).
    Current,
    /// Every term (a diary on paper, where nothing more can be fetched).
    Every,
}

/// An earlier part of the school year: the weeks of one term before the `now` chunk's
/// (a week belongs to the first term it overlaps).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PartSpec {
    /// The chunk's name: `term-YYYY-MM-DD`, the term's first day.
    pub name: String,
    /// The term's name ("1 четверть").
    pub label: String,
    /// Its weeks' Mondays, oldest first (never empty).
    pub mondays: Vec<NaiveDate>,
}

impl PartSpec {
    /// The chunk name of the part of a term starting on `starts_on`.
    pub(crate) fn name_of(starts_on: NaiveDate) -> String {
        format!("term-{starts_on}")
    }
}

/// How the `now` chunk lists an earlier part.
#[derive(Serialize)]
pub(crate) struct PartRef {
    pub name: String,
    pub label: String,
    pub first: String,
    pub last: String,
}

/// An earlier part of a child's diary.
#[derive(Serialize)]
pub(crate) struct ChildPart {
    pub name: String,
    pub no_marks: bool,
    pub weeks: Vec<ChildWeek>,
}

/// A pupil's own lines, by lesson, up to today.
struct PupilLines<'a> {
    marks: Vec<&'a Mark>,
    attendance: Vec<&'a Attendance>,
    remarks: Vec<&'a crate::journal::Remark>,
    marks_by_lesson: FxHashMap<Id, Vec<&'a Mark>>,
    att_by_lesson: FxHashMap<Id, &'a Attendance>,
}

/// Per-pupil indexes of marks, attendance and groups, and the work types' weights, built
/// once per build.
pub(crate) struct DiaryIndex<'a> {
    pub(super) pupils: ByPupil<'a>,
    pub(super) weights: Weights,
    pub(super) hours: WeeklyHours,
}

impl<'a> DiaryIndex<'a> {
    pub(crate) fn new(j: &'a Journal, grading: &crate::config::Grading) -> DiaryIndex<'a> {
        DiaryIndex {
            pupils: ByPupil::new(j),
            weights: Weights::new(&j.work_types, grading),
            hours: j.weekly_hours(),
        }
    }
}

/// The class-wide parts of a diary, computed once per class: announcements, events and
/// the HTML of every lesson of the weeks a diary shows.
pub(crate) struct ClassParts {
    pub announcements: Vec<AnnouncementView>,
    pub events: Vec<EventView>,
    /// The class's lessons' HTML, and where each lesson is in it.
    pub lessons: Vec<LessonHtml>,
    pub index: FxHashMap<Id, usize>,
    /// A digest of `lessons`: a diary's content is its data with this.
    pub digest: [u8; 32],
    /// The weeks rendered once for the pupils who attend the same lessons, by Monday and
    /// lessons (see [`ClassParts::share_weeks`]).
    shared: Mutex<FxHashMap<WeekKey, Arc<SharedWeek>>>,
    /// Today (ISO): lessons up to today may hold a pupil's own lines.
    today: String,
}

/// A week as pupils share it: its Monday and the lessons they attend (their places in
/// [`ClassParts::lessons`]).
type WeekKey = (String, Vec<usize>);

/// A week of a class's diary as every pupil who attends the same lessons sees it before
/// their own lines go in, rendered once by the theme's `partials/dweek.html`.
pub(crate) struct SharedWeek {
    html: String,
    pub digest: [u8; 32],
    /// Its lessons (places in [`ClassParts::lessons`]), sorted.
    lessons: Vec<usize>,
    /// Those of them up to today, sorted: where [`ClassParts::placed_week`] leaves room for
    /// a pupil's own lines.
    places: Vec<usize>,
}

/// A part of a chunk's HTML as [`ClassParts::pieces`] cuts it: the pupil's own text, or a
/// run of weeks as the class shares them (its text is [`ClassParts::placed_run`]).
pub(crate) enum ChildPiece {
    Own(String),
    Weeks(WeekRun),
}

/// Shared weeks that follow one another in a chunk with only white space between them:
/// compressed together, they refer back to each other.
pub(crate) struct WeekRun {
    weeks: Vec<Arc<SharedWeek>>,
    /// The white space after each week but the last.
    gaps: Vec<String>,
}

impl WeekRun {
    /// What tells runs apart while their class parts live: the weeks' addresses and the
    /// gaps between them.
    pub(crate) fn key(&self) -> String {
        let mut key = String::new();
        for (i, week) in self.weeks.iter().enumerate() {
            key.push_str(&format!("{TOKEN_START}{:x}", Arc::as_ptr(week) as usize));
            key.push_str(self.gaps.get(i).map_or("", String::as_str));
        }
        key
    }
}

/// What [`ClassParts::share_weeks`] takes out of a pupil's weeks: the shared weeks the
/// page's place holders name, and the pupil's own lines of them, to be rendered by the
/// theme's `partials/diary_lines.html`.
#[derive(Default)]
pub(crate) struct OwnLines {
    pub weeks: Vec<Arc<SharedWeek>>,
    pub lines: Vec<ChildLesson>,
    /// A week of the page is the pupil's alone (it has remarks).
    pub alone: bool,
}

impl OwnLines {
    /// What the pupil's chunk depends on besides its view: the shared weeks' digests.
    pub(crate) fn digest_into(&self, mut data: impl FnMut(&[u8])) {
        for week in &self.weeks {
            data(&week.digest);
        }
    }
}

impl ClassParts {
    /// A rendered diary with its lessons' tokens replaced by the class's HTML. A token that
    /// names no lesson (a broken template) is left out.
    pub(crate) fn expand(&self, html: &str) -> String {
        self.expand_own(html, &OwnLines::default(), &[])
    }

    /// [`ClassParts::expand`] for a page whose weeks [`ClassParts::share_weeks`] replaced:
    /// each shared week goes in, and the pupil's own lines after the lessons' tokens
    /// (`lines[i]` holds the HTML of `own.lines[i]`, see [`ChildLesson::lines_key`]).
    pub(crate) fn expand_own(&self, html: &str, own: &OwnLines, lines: &[LineHtml]) -> String {
        // What the pupil's lines put after each token: `(lesson, part)` -> HTML.
        let mut after: FxHashMap<(usize, char), &str> = FxHashMap::default();
        for (line, html) in own.lines.iter().zip(lines) {
            after.insert((line.index, 'h'), &html.0);
            after.insert((line.index, 'm'), &html.1);
        }
        let mut out = String::with_capacity(html.len() * 2);
        self.expand_into(&mut out, html, own, &after);
        out
    }

    fn expand_into(
        &self,
        out: &mut String,
        html: &str,
        own: &OwnLines,
        after: &FxHashMap<(usize, char), &str>,
    ) {
        let mut from = 0;
        for (start, end, token) in tokens(html) {
            out.push_str(&html[from..start]);
            from = end;
            let Some((number, part)) = token else {
                continue;
            };
            if part == 'w' {
                if let Some(week) = own.weeks.get(number) {
                    self.expand_into(out, &week.html, own, after);
                }
                continue;
            }
            let Some(lesson) = self.lesson_html(number, part) else {
                continue;
            };
            out.push_str(lesson);
            if let Some(lines) = after.get(&(number, part)) {
                out.push_str(lines);
            }
        }
        out.push_str(&html[from..]);
    }

    /// The class's HTML of a lesson token's part (`h`, `m` or `t`).
    fn lesson_html(&self, number: usize, part: char) -> Option<&str> {
        let lesson = self.lessons.get(number)?;
        Some(match part {
            'h' => &lesson.head,
            'm' => &lesson.middle,
            't' => &lesson.tail,
            _ => "",
        })
    }

    /// A shared week with its lessons in, and an empty place holder
    /// `<i data-o="<lesson><h|m>"></i>` wherever a pupil's own lines may go (after the head
    /// and the middle of each lesson up to today). The browser moves each pupil's lines
    /// there from the chunk's `div.own-lines` (docs/access.md, "Own lines").
    pub(crate) fn placed_week(&self, week: &SharedWeek) -> String {
        use std::fmt::Write;
        let mut out = String::with_capacity(week.html.len() * 4);
        let mut from = 0;
        for (start, end, token) in tokens(&week.html) {
            out.push_str(&week.html[from..start]);
            from = end;
            let Some((number, part)) = token else {
                continue;
            };
            let Some(lesson) = self.lesson_html(number, part) else {
                continue;
            };
            out.push_str(lesson);
            if matches!(part, 'h' | 'm') && week.places.binary_search(&number).is_ok() {
                let _ = write!(out, "<i {OWN_PLACE}=\"{number}{part}\"></i>");
            }
        }
        out.push_str(&week.html[from..]);
        out
    }

    /// A run of shared weeks as [`ClassParts::placed_week`] makes each, with the white
    /// space between them.
    pub(crate) fn placed_run(&self, run: &WeekRun) -> String {
        let mut out = String::new();
        for (i, week) in run.weeks.iter().enumerate() {
            out.push_str(&self.placed_week(week));
            out.push_str(run.gaps.get(i).map_or("", String::as_str));
        }
        out
    }

    /// A chunk's HTML cut into the pupil's own text and the runs of weeks the pupil shares
    /// with the class, for a page whose weeks [`ClassParts::share_weeks`] replaced. Put
    /// together, the pieces are [`ClassParts::expand_own`]'s page with each shared week as
    /// [`ClassParts::placed_week`] makes it, and the pupil's own lines of those weeks in one
    /// `<div class="own-lines" hidden>` right before the page's last closing tag, each in a
    /// `<div data-o="<lesson><h|m>">` naming its place. A page with a week of the pupil's
    /// own (remarks), or a line with no place (a lesson after today), is one piece:
    /// [`ClassParts::expand_own`]'s.
    pub(crate) fn pieces(&self, html: &str, own: &OwnLines, lines: &[LineHtml]) -> Vec<ChildPiece> {
        use std::fmt::Write;
        let mut after: FxHashMap<(usize, char), &str> = FxHashMap::default();
        for (line, html) in own.lines.iter().zip(lines) {
            after.insert((line.index, 'h'), &html.0);
            after.insert((line.index, 'm'), &html.1);
        }
        let placed: Vec<bool> = own
            .weeks
            .iter()
            .map(|week| {
                own.lines.iter().all(|l| {
                    week.lessons.binary_search(&l.index).is_err()
                        || week.places.binary_search(&l.index).is_ok()
                })
            })
            .collect();
        if own.alone || placed.contains(&false) {
            // Cut only where every week is shared: a week of the pupil's own in the middle
            // would be deflated apart from the rest and grow the chunk.
            return vec![ChildPiece::Own(self.expand_own(html, own, lines))];
        }
        let mut pieces = Vec::new();
        let mut text = String::with_capacity(html.len() * 2);
        let mut moved = String::new();
        let mut from = 0;
        for (start, end, token) in tokens(html) {
            text.push_str(&html[from..start]);
            from = end;
            let Some((number, part)) = token else {
                continue;
            };
            if part != 'w' {
                // A lesson outside the weeks (a theme's own use of its tokens).
                let mut one = String::new();
                self.expand_into(&mut one, &html[start..end], own, &after);
                text.push_str(&one);
                continue;
            }
            let Some(week) = own.weeks.get(number) else {
                continue;
            };
            let before = std::mem::take(&mut text);
            match pieces.last_mut() {
                Some(ChildPiece::Weeks(run)) if before.trim().is_empty() => {
                    run.gaps.push(before);
                    run.weeks.push(week.clone());
                }
                _ => {
                    pieces.push(ChildPiece::Own(before));
                    pieces.push(ChildPiece::Weeks(WeekRun {
                        weeks: vec![week.clone()],
                        gaps: Vec::new(),
                    }));
                }
            }
            for (line, html) in own.lines.iter().zip(lines) {
                if week.lessons.binary_search(&line.index).is_err() {
                    continue;
                }
                for (part, html) in [('h', &html.0), ('m', &html.1)] {
                    if !html.trim().is_empty() {
                        let _ = write!(
                            moved,
                            "<div {OWN_PLACE}=\"{}{part}\">{html}</div>",
                            line.index
                        );
                    }
                }
            }
        }
        text.push_str(&html[from..]);
        if !moved.is_empty() {
            let at = text.rfind("</").unwrap_or(text.len());
            text.insert_str(
                at,
                &format!("<div class=\"own-lines\" hidden>{moved}</div>"),
            );
        }
        pieces.push(ChildPiece::Own(text));
        pieces
    }

    /// Replaces each of a pupil's weeks without remarks by a place holder for the same week
    /// as the class's pupils who attend the same lessons share it (rendered by `render` the
    /// first time a pupil needs it), and takes the pupil's attendance and marks out of it
    /// into [`OwnLines::lines`]. Rendering a week once per class and group instead of once
    /// per pupil is most of the work a diary chunk saves.
    pub(crate) fn share_weeks(
        &self,
        weeks: &mut [ChildWeek],
        render: impl Fn(&ChildWeek) -> anyhow::Result<String>,
    ) -> anyhow::Result<OwnLines> {
        let mut own = OwnLines::default();
        for week in weeks.iter_mut() {
            if week.days.iter().any(|d| !d.remarks.is_empty()) {
                own.alone = true;
                continue;
            }
            let mut lessons = Vec::new();
            let mut places = Vec::new();
            for day in &mut week.days {
                let past = day.iso <= self.today;
                for l in &mut day.lessons {
                    lessons.push(l.index);
                    if past {
                        places.push(l.index);
                    }
                    if l.attendance.is_some() || !l.marks.is_empty() {
                        own.lines.push(ChildLesson {
                            html: LessonTokens::new(l.index),
                            index: l.index,
                            marks: std::mem::take(&mut l.marks),
                            attendance: l.attendance.take(),
                            attendance_note: l.attendance_note.take(),
                        });
                    }
                }
            }
            let key = (week.monday.clone(), lessons);
            let known = self.shared.lock().ok().and_then(|m| m.get(&key).cloned());
            let shared = match known {
                Some(shared) => shared,
                None => {
                    let html = render(week)?;
                    let mut lessons = key.1.clone();
                    lessons.sort_unstable();
                    places.sort_unstable();
                    let shared = Arc::new(SharedWeek {
                        digest: Sha256::digest(html.as_bytes()).into(),
                        html,
                        lessons,
                        places,
                    });
                    if let Ok(mut map) = self.shared.lock() {
                        map.insert(key, shared.clone());
                    }
                    shared
                }
            };
            week.shared = Some(format!("{TOKEN_START}{}w{TOKEN_END}", own.weeks.len()));
            week.days = Vec::new();
            own.weeks.push(shared);
        }
        Ok(own)
    }
}

/// The tokens of a rendered page, in order: where each starts and ends, and its lesson (or
/// week) and part, `None` for a token that names none.
fn tokens(html: &str) -> impl Iterator<Item = (usize, usize, Option<(usize, char)>)> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        let start = at + html[at..].find(TOKEN_START)?;
        let body = start + TOKEN_START.len_utf8();
        let Some(len) = html[body..].find(TOKEN_END) else {
            // A start without an end: dropped alone.
            at = body;
            return Some((start, body, None));
        };
        let end = body + len + TOKEN_END.len_utf8();
        at = end;
        let token = &html[body..body + len];
        let part = token.chars().last();
        let number = token[..token.len() - part.map_or(0, char::len_utf8)]
            .parse()
            .ok();
        Some((start, end, number.zip(part)))
    })
}

impl Inputs<'_> {
    /// The class-wide parts of the diary weeks starting on `mondays` of `class`; `render`
    /// turns a lesson's view into its HTML (the theme's `partials/diary_lesson.html`). With
    /// `board`, also the announcements and events the `now` chunk shows.
    pub(crate) fn class_parts(
        &self,
        class: &ClassRef,
        hw: &HomeworkIndex,
        mondays: &[NaiveDate],
        board: bool,
        render: impl Fn(&LessonView) -> anyhow::Result<String>,
    ) -> anyhow::Result<ClassParts> {
        let mut lessons = Vec::new();
        let mut index = FxHashMap::default();
        let mut digest = Sha256::new();
        let school_days = i64::from(self.config.school_days);
        for monday in mondays {
            for l in hw.lessons(class.id, *monday, *monday + Duration::days(school_days - 1)) {
                let html = render(&self.lesson_view(l, hw))?;
                digest.update((html.len() as u64).to_be_bytes());
                digest.update(html.as_bytes());
                index.insert(l.id, lessons.len());
                lessons.push(LessonHtml::split(&html));
            }
        }
        Ok(ClassParts {
            announcements: if board {
                self.board_of(Some(class))
            } else {
                Vec::new()
            },
            events: if board {
                self.upcoming_events(Some(class.id))
            } else {
                Vec::new()
            },
            lessons,
            index,
            digest: digest.finalize().into(),
            shared: Mutex::default(),
            today: self.today.to_string(),
        })
    }

    /// The Mondays of the weeks the `now` chunk shows: this week and next.
    pub(crate) fn now_mondays(&self) -> Vec<NaiveDate> {
        let this_week = self.board_monday();
        vec![this_week, this_week + Duration::days(7)]
    }

    /// The earlier parts of the school year of a class as of today, oldest first: for each
    /// term, its weeks before this week that no earlier term holds.
    pub(crate) fn diary_parts(&self, class_id: Id) -> Vec<PartSpec> {
        let Some(class) = self.journal.class(class_id) else {
            return Vec::new();
        };
        let this_week = self.board_monday();
        let mut terms: Vec<&crate::journal::Period> = self
            .journal
            .periods
            .iter()
            .filter(|p| p.year_id == class.year_id && p.kind.is_term())
            .collect();
        terms.sort_by_key(|p| (p.starts_on, p.id));
        let mut taken = NaiveDate::MIN;
        let mut parts = Vec::new();
        for t in terms {
            let mut mondays = Vec::new();
            let mut monday = monday_of(t.starts_on);
            while monday <= t.ends_on && monday < this_week {
                if monday > taken {
                    mondays.push(monday);
                    taken = monday;
                }
                monday += Duration::days(7);
            }
            if !mondays.is_empty() {
                parts.push(PartSpec {
                    name: PartSpec::name_of(t.starts_on),
                    label: t.name.clone(),
                    mondays,
                });
            }
        }
        parts
    }

    /// A pupil's marks, attendance and remarks up to today (a journal may be filled
    /// ahead), by lesson.
    fn pupil_lines<'x>(
        &self,
        student: &Student,
        no_marks: bool,
        ix: &'x DiaryIndex,
    ) -> PupilLines<'x> {
        let j = self.journal;
        let up_to_today = |lesson_id: Id| j.lesson(lesson_id).is_some_and(|l| l.date <= self.today);
        let marks: Vec<&Mark> = ix
            .pupils
            .marks_of(student.id)
            .iter()
            .copied()
            .filter(|m| up_to_today(m.lesson_id))
            .collect();
        let attendance: Vec<&Attendance> = ix
            .pupils
            .attendance_of(student.id)
            .iter()
            .copied()
            .filter(|a| up_to_today(a.lesson_id))
            .collect();
        let remarks: Vec<&crate::journal::Remark> = ix
            .pupils
            .remarks_of(student.id)
            .iter()
            .copied()
            .filter(|r| r.date <= self.today)
            .collect();
        let mut marks_by_lesson: FxHashMap<Id, Vec<&Mark>> = FxHashMap::default();
        if !no_marks {
            for m in &marks {
                marks_by_lesson.entry(m.lesson_id).or_default().push(m);
            }
        }
        let att_by_lesson = attendance.iter().map(|a| (a.lesson_id, *a)).collect();
        PupilLines {
            marks,
            attendance,
            remarks,
            marks_by_lesson,
            att_by_lesson,
        }
    }

    /// A pupil's weeks starting on `mondays`: the class's lessons the pupil attends, with
    /// the pupil's attendance, marks and remarks.
    #[allow(clippy::too_many_arguments)]
    fn child_weeks(
        &self,
        student: &Student,
        class: &ClassRef,
        parts: &ClassParts,
        hw: &HomeworkIndex,
        ix: &DiaryIndex,
        lines: &PupilLines,
        mondays: &[NaiveDate],
    ) -> Vec<ChildWeek> {
        let this_week = self.board_monday();
        let school_days = i64::from(self.config.school_days);
        mondays
            .iter()
            .map(|&monday| {
                let end = monday + Duration::days(school_days - 1);
                let lessons = hw.lessons(class.id, monday, end);
                let days = (0..school_days)
                    .map(|i| {
                        let date = monday + Duration::days(i);
                        let todays: Vec<ChildLesson> = lessons
                            .iter()
                            .filter(|l| l.date == date && ix.pupils.attends(student.id, l))
                            .map(|l| {
                                let a = lines.att_by_lesson.get(&l.id);
                                let index = parts.index.get(&l.id).copied().unwrap_or(usize::MAX);
                                ChildLesson {
                                    html: LessonTokens::new(index),
                                    index,
                                    marks: lines
                                        .marks_by_lesson
                                        .get(&l.id)
                                        .map(|ms| {
                                            ms.iter().map(|m| self.mark_view(m, ix)).collect()
                                        })
                                        .unwrap_or_default(),
                                    attendance: a.map(|a| a.status.as_str()),
                                    attendance_note: a.and_then(|a| a.note.clone()),
                                }
                            })
                            .collect();
                        let mut day = self.day(date, class.grade, todays);
                        day.remarks = lines
                            .remarks
                            .iter()
                            .filter(|r| r.date == date)
                            .map(|r| self.remark_view(r))
                            .collect();
                        day
                    })
                    .collect();
                ChildWeek {
                    monday: monday.to_string(),
                    label: self.strings.range(monday, end),
                    current: monday == this_week,
                    days,
                    shared: None,
                }
            })
            .collect()
    }

    /// An earlier part of one child's diary; `parts` are the class's parts of its weeks.
    pub(crate) fn child_part(
        &self,
        student: &Student,
        class: &ClassRef,
        parts: &ClassParts,
        hw: &HomeworkIndex,
        ix: &DiaryIndex,
        spec: &PartSpec,
    ) -> ChildPart {
        let no_marks = class.grade <= 1;
        let lines = self.pupil_lines(student, no_marks, ix);
        ChildPart {
            name: spec.name.clone(),
            no_marks,
            weeks: self.child_weeks(student, class, parts, hw, ix, &lines, &spec.mondays),
        }
    }

    /// The `now` chunk of one child's diary; `parts` are the class's parts of this week and
    /// next, `earlier` the class's earlier parts, `listing` the terms whose marks it lists
    /// one by one.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn child_page(
        &self,
        student: &Student,
        class: &ClassRef,
        parts: &ClassParts,
        hw: &HomeworkIndex,
        ix: &DiaryIndex,
        earlier: &[PartSpec],
        listing: TermMarks,
    ) -> ChildPage {
        let j = self.journal;
        let no_marks = class.grade <= 1;
        let lines = self.pupil_lines(student, no_marks, ix);
        let weeks = self.child_weeks(student, class, parts, hw, ix, &lines, &self.now_mondays());
        let marks = &lines.marks;
        ChildPage {
            common: self.common(),
            child: ChildView {
                name: student.full_name(),
                first_name: student.first_name.clone(),
                class: class.name.clone(),
            },
            no_marks,
            as_of: self.strings.date(self.today),
            built_for: self.today.to_string(),
            attention: j
                .class(class.id)
                .map(|c| self.warnings(student, c, hw, ix))
                .unwrap_or_default(),
            weeks,
            parts: earlier
                .iter()
                .map(|p| PartRef {
                    name: p.name.clone(),
                    label: p.label.clone(),
                    first: p
                        .mondays
                        .first()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    last: p
                        .mondays
                        .last()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                })
                .collect(),
            periods: self.period_views(student, class, &lines, ix, no_marks, listing),
            debts: if no_marks {
                Vec::new()
            } else {
                self.debts(marks)
            },
            remarks: {
                let term = j.class(class.id).and_then(|c| self.current_term(c));
                lines
                    .remarks
                    .iter()
                    .rev()
                    .filter(|r| term.is_none_or(|p| p.contains(r.date)))
                    .map(|r| self.remark_view(r))
                    .collect()
            },
            announcements: parts.announcements.clone(),
            board_url: class.url.clone(),
            full_news: false,
            events: parts.events.clone(),
        }
    }

    fn mark_view(&self, m: &Mark, ix: &DiaryIndex) -> MarkView {
        let weight = ix.weights.of(m);
        MarkView {
            value: m.value.as_deref().unwrap_or("•").to_string(),
            work_type: m
                .work_type_id
                .and_then(|w| self.journal.work_type(w))
                .map(|w| w.name.clone()),
            weight: (weight != 1.0).then(|| format!("×{}", trim_float(weight))),
            comment: m.comment.as_deref().map(str::to_string),
            debt: m.is_debt,
        }
    }

    fn debts(&self, marks: &[&Mark]) -> Vec<DebtView> {
        let j = self.journal;
        let mut out: Vec<(NaiveDate, DebtView)> = marks
            .iter()
            .filter(|m| m.is_debt && m.value.is_none())
            .filter_map(|m| {
                let l = j.lesson(m.lesson_id)?;
                Some((
                    l.date,
                    DebtView {
                        subject: j
                            .subject(l.subject_id)
                            .map(|s| s.name.clone())
                            .unwrap_or_default(),
                        date: self.strings.date_short_weekday(l.date),
                        work_type: m
                            .work_type_id
                            .and_then(|w| j.work_type(w))
                            .map(|w| w.name.clone()),
                    },
                ))
            })
            .collect();
        out.sort_by_key(|(d, _)| *d);
        out.into_iter().map(|(_, d)| d).collect()
    }

    fn period_views(
        &self,
        student: &Student,
        class: &ClassRef,
        lines: &PupilLines,
        ix: &DiaryIndex,
        no_marks: bool,
        listing: TermMarks,
    ) -> Vec<PeriodView> {
        let j = self.journal;
        let (marks, attendance) = (&lines.marks, &lines.attendance);
        let Some(c) = j.class(class.id) else {
            return Vec::new();
        };
        let mut periods: Vec<_> = j
            .periods
            .iter()
            .filter(|p| p.year_id == c.year_id)
            .collect();
        periods.sort_by_key(|p| (p.kind.rank(), p.starts_on, p.id));
        let current = self.current_term(c).map(|p| p.id);
        // Marks by subject with their dates, once.
        let mut by_subject: BTreeMap<String, SubjectMarks> = BTreeMap::new();
        for m in marks {
            if let Some(l) = j.lesson(m.lesson_id)
                && let Some(s) = j.subject(l.subject_id)
            {
                by_subject
                    .entry(s.name.clone())
                    .or_insert_with(|| (s.id, Vec::new()))
                    .1
                    .push((l.date, m));
            }
        }
        // A teacher's period mark is final once its set date has passed, or (set without
        // a date) once its period has ended; before that the diary shows the forecast.
        let settled = |pm: &PeriodMark| {
            j.period(pm.period_id)
                .is_some_and(|p| pm.is_final(p, self.today))
        };
        for pm in ix
            .pupils
            .period_marks_of(student.id)
            .iter()
            .filter(|pm| settled(pm))
        {
            if let Some(s) = j.subject(pm.subject_id) {
                by_subject
                    .entry(s.name.clone())
                    .or_insert_with(|| (s.id, Vec::new()));
            }
        }
        let grading = &self.config.grading;
        let takes_rules = (!no_marks)
            .then(|| serde_json::to_string(&grades::TakesRules::new(grading, &ix.weights)).ok())
            .flatten();
        // An exam session or the final mark only for a pupil with a teacher's mark in it.
        let own_marks = ix.pupils.period_marks_of(student.id);
        periods
            .into_iter()
            .filter(|p| {
                p.kind.is_term()
                    || p.kind == PeriodKind::Year
                    || own_marks
                        .iter()
                        .any(|pm| pm.period_id == p.id && settled(pm))
            })
            .map(|p| {
                let brief = p.kind.is_term()
                    && Some(p.id) != current
                    && matches!(listing, TermMarks::Current);
                // The marks one by one, where they are shown.
                let listed = p.kind.is_term() && !brief;
                let subjects = if no_marks {
                    Vec::new()
                } else {
                    by_subject
                        .iter()
                        .filter_map(|(name, (subject_id, ms))| {
                            let mut inside: Vec<&(NaiveDate, &Mark)> =
                                ms.iter().filter(|(d, _)| p.contains(*d)).collect();
                            inside.sort_by_key(|(d, m)| (*d, m.id));
                            let teacher = ix
                                .pupils
                                .period_mark(student.id, *subject_id, p.id)
                                .filter(|pm| settled(pm));
                            let list: Vec<&Mark> = inside.iter().map(|(_, m)| *m).collect();
                            let min_marks =
                                grading.min_marks_for(ix.hours.of(class.id, *subject_id));
                            let att = grades::attest_needing(
                                class.grade,
                                &list,
                                &ix.weights,
                                grading,
                                teacher,
                                min_marks,
                            );
                            let (state, needed) = match &att {
                                Attestation::NoMarks => ("none", 0),
                                Attestation::NotEnough { needed, .. } => ("not_enough", *needed),
                                Attestation::Forecast { .. } => ("forecast", 0),
                                Attestation::Final { .. } => ("final", 0),
                            };
                            let mark = att.mark();
                            let shown = match p.kind {
                                k if k.is_term() => true,
                                PeriodKind::Year => {
                                    mark.is_some() || inside.iter().any(|(_, m)| m.value.is_some())
                                }
                                // An exam or the final mark: only the teacher's marks.
                                _ => state == "final",
                            };
                            if !shown {
                                return None;
                            }
                            Some(SubjectRow {
                                subject: name.clone(),
                                // Built only where shown: the year's and the other
                                // terms' would be every mark of the pupil again.
                                marks: if listed {
                                    inside
                                        .iter()
                                        .filter_map(|(d, m)| {
                                            let value = m.value.as_deref()?.to_string();
                                            let wt = m
                                                .work_type_id
                                                .and_then(|w| j.work_type(w))
                                                .map(|w| w.name.as_str())
                                                .unwrap_or("");
                                            Some(MarkBrief {
                                                value,
                                                date: self.strings.date_short_weekday(*d),
                                                title: wt.to_string(),
                                            })
                                        })
                                        .collect()
                                } else {
                                    Vec::new()
                                },
                                average: att.average().map(|a| {
                                    crate::i18n::decimal(
                                        self.strings.language,
                                        grades::format_average(a),
                                    )
                                }),
                                state,
                                mark,
                                comment: teacher.and_then(|pm| pm.comment.clone()),
                                count: att.count(),
                                needed,
                                takes: (Some(p.id) == current
                                    && matches!(
                                        att,
                                        Attestation::Forecast { .. }
                                            | Attestation::NotEnough { .. }
                                    ))
                                .then(|| grades::takes_marks(&list, &ix.weights, grading)),
                                takes_min: min_marks,
                            })
                        })
                        .collect()
                };
                let mut totals = AttendanceTotals::default();
                for a in attendance {
                    if let Some(l) = j.lesson(a.lesson_id)
                        && p.contains(l.date)
                    {
                        match a.status {
                            AttendanceStatus::Absent => totals.absent += 1,
                            AttendanceStatus::Ill => totals.ill += 1,
                            AttendanceStatus::Excused => totals.excused += 1,
                            AttendanceStatus::Unexcused => totals.unexcused += 1,
                            AttendanceStatus::Late => totals.late += 1,
                        }
                    }
                }
                PeriodView {
                    name: p.name.clone(),
                    dates: self.strings.range(p.starts_on, p.ends_on),
                    current: Some(p.id) == current,
                    is_year: !p.kind.is_term(),
                    brief,
                    exam: p.kind.rank() >= PeriodKind::Exam.rank(),
                    subjects,
                    attendance: totals,
                    takes_rules: if Some(p.id) == current {
                        takes_rules.clone()
                    } else {
                        None
                    },
                }
            })
            .collect()
    }
}

/// A subject's id and the pupil's marks in it with their lesson dates.
type SubjectMarks<'m> = (Id, Vec<(NaiveDate, &'m Mark)>);

fn trim_float(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What diary.js does with a chunk's own lines, for a fragment without nested divs.
    fn place(html: &str) -> String {
        let mut out = html.to_string();
        if let Some(start) = out.find("<div class=\"own-lines\" hidden>") {
            let body = start + "<div class=\"own-lines\" hidden>".len();
            let end = body + out[body..].find("</div></div>").map_or(0, |k| k + 6);
            let list = out[body..end].to_string();
            out.replace_range(start..end + 6, "");
            for line in list.split("<div data-o=\"").skip(1) {
                let (name, rest) = line.split_once("\">").unwrap();
                let inner = rest.strip_suffix("</div>").unwrap();
                let place = format!("<i data-o=\"{name}\"></i>");
                assert_eq!(out.matches(&place).count(), 1, "{place}");
                out = out.replace(&place, inner);
            }
        }
        while let Some(at) = out.find("<i data-o=\"") {
            let end = at + out[at..].find("</i>").unwrap() + 4;
            out.replace_range(at..end, "");
        }
        out
    }

    #[test]
    fn pieces_put_together_and_placed_are_the_expanded_page() {
        let lesson = |n: &str| {
            LessonHtml::split(&format!(
                "<li><p>{n}<!--attendance--></p><!--marks--><p>topic</p></li>"
            ))
        };
        let parts = ClassParts {
            announcements: Vec::new(),
            events: Vec::new(),
            lessons: vec![lesson("Maths"), lesson("Art"), lesson("Music")],
            index: FxHashMap::default(),
            digest: [0; 32],
            shared: Mutex::default(),
            today: "2026-11-23".into(),
        };
        let tokens = |i: usize| {
            let t = LessonTokens::new(i);
            format!("{}{}{}", t.head, t.middle, t.tail)
        };
        // Lessons 0 and 1 are up to today, lesson 2 after it.
        let week = Arc::new(SharedWeek {
            html: format!("<section>{}{}{}</section>", tokens(0), tokens(1), tokens(2)),
            digest: [0; 32],
            lessons: vec![0, 1, 2],
            places: vec![0, 1],
        });
        let line = |index: usize| ChildLesson {
            html: LessonTokens::new(index),
            index,
            marks: Vec::new(),
            attendance: None,
            attendance_note: None,
        };
        let page =
            format!("<article><h2>Ann</h2>{TOKEN_START}0w{TOKEN_END}<table></table></article>");
        let html =
            |att: &str, marks: &str| -> LineHtml { Arc::new((att.to_string(), marks.to_string())) };
        let whole = |pieces: &[ChildPiece]| -> String {
            pieces
                .iter()
                .map(|p| match p {
                    ChildPiece::Own(text) => text.clone(),
                    ChildPiece::Weeks(run) => parts.placed_run(run),
                })
                .collect()
        };

        // Own lines at lessons 0 (attendance and a mark) and 1 (a mark): the week is shared.
        let own = OwnLines {
            weeks: vec![week.clone()],
            lines: vec![line(0), line(1)],
            alone: false,
        };
        let lines = [
            html(" <b>ill</b>", "<p class=\"marks\">5</p>"),
            html("", "<p>4</p>"),
        ];
        let pieces = parts.pieces(&page, &own, &lines);
        assert_eq!(pieces.len(), 3);
        assert!(matches!(&pieces[0], ChildPiece::Own(t) if t == "<article><h2>Ann</h2>"));
        assert!(matches!(&pieces[1], ChildPiece::Weeks(run)
            if run.weeks.len() == 1 && Arc::ptr_eq(&run.weeks[0], &week)));
        let placed = parts.placed_week(&week);
        assert_eq!(placed.matches("<i data-o=").count(), 4, "{placed}");
        assert!(!placed.contains("data-o=\"2"), "no place after today");
        assert!(
            whole(&pieces)
                .contains("<div class=\"own-lines\" hidden><div data-o=\"0h\"> <b>ill</b></div>")
        );
        assert_eq!(
            place(&whole(&pieces)),
            parts.expand_own(&page, &own, &lines)
        );

        // No own lines: no list, only the places (removed by the browser).
        let none = OwnLines {
            weeks: vec![week.clone()],
            lines: Vec::new(),
            alone: false,
        };
        let pieces = parts.pieces(&page, &none, &[]);
        assert!(!whole(&pieces).contains("own-lines"));
        assert_eq!(place(&whole(&pieces)), parts.expand_own(&page, &none, &[]));

        // A line at a lesson after today has no place: the week goes in whole, not shared.
        let ahead = OwnLines {
            weeks: vec![week.clone()],
            lines: vec![line(0), line(2)],
            alone: false,
        };
        let lines = [html(" <b>ill</b>", ""), html("", "<p>3</p>")];
        let pieces = parts.pieces(&page, &ahead, &lines);
        assert_eq!(pieces.len(), 1);
        assert_eq!(whole(&pieces), parts.expand_own(&page, &ahead, &lines));

        // Two weeks with white space between them go as one run; text between cuts it.
        let two = OwnLines {
            weeks: vec![week.clone(), week.clone()],
            lines: Vec::new(),
            alone: false,
        };
        let w = |i: usize| format!("{TOKEN_START}{i}w{TOKEN_END}");
        let pieces = parts.pieces(&format!("<a>{}\n{}</a>", w(0), w(1)), &two, &[]);
        assert_eq!(pieces.len(), 3);
        assert!(matches!(&pieces[1], ChildPiece::Weeks(run) if run.weeks.len() == 2));
        let pieces = parts.pieces(&format!("<a>{}<hr>{}</a>", w(0), w(1)), &two, &[]);
        assert_eq!(pieces.len(), 5);

        // A week of the pupil's own (remarks) on the page: nothing is cut.
        let alone = OwnLines {
            weeks: vec![week.clone()],
            lines: vec![line(0)],
            alone: true,
        };
        let pieces = parts.pieces(&page, &alone, &lines[..1]);
        assert_eq!(pieces.len(), 1);
        assert_eq!(whole(&pieces), parts.expand_own(&page, &alone, &lines[..1]));
    }

    #[test]
    fn tokens_expand_to_the_class_lessons() {
        let parts = ClassParts {
            announcements: Vec::new(),
            events: Vec::new(),
            lessons: vec![LessonHtml::split(
                "<li><p>Maths<!--attendance--></p><!--marks--><p>topic</p></li>",
            )],
            index: FxHashMap::from_iter([(7, 0)]),
            digest: [0; 32],
            shared: Mutex::default(),
            today: "2026-11-23".into(),
        };
        let t = LessonTokens::new(0);
        let page = format!(
            "<ol>{}<b>ill</b>{}<i>5</i>{}{}</ol>",
            t.head,
            t.middle,
            t.tail,
            LessonTokens::new(3).head
        );
        assert_eq!(
            parts.expand(&page),
            "<ol><li><p>Maths<b>ill</b></p><i>5</i><p>topic</p></li></ol>"
        );
        // Journal text cannot forge a token: escaping drops the control characters.
        let forged = crate::text::escape_html(&format!("x{}y", t.head));
        assert_eq!(parts.expand(&forged), "x0hy");
    }
}
