//! A diary's marks by period (`periods_html` in `diary_child.html`), written here rather
//! than by a template. Every `now` chunk holds one such table per period, a pupil's own,
//! and the school day re-renders all of them: through Tera's generic context it was a third
//! of a `now` chunk's time; written directly it is a small part of it.
//!
//! The markup is the one the theme's template had, line for line, with the white space
//! between tags already squeezed (see [`super::squeeze_html`]). A theme styles it by its
//! classes (docs/configuration.md).

use std::fmt::Write;

use super::Strings;
use super::html::Html;
use crate::views::{PeriodView, SubjectRow};

/// The `<section class="periods">` of a pupil's diary: per period the subjects, the marks
/// (the current term), the average, the period mark or forecast, and attendance totals.
pub(crate) fn periods_html(t: &Strings, no_marks: bool, periods: &[PeriodView]) -> String {
    let mut h = Html(String::with_capacity(1024 + 1024 * periods.len()));
    h.raw("<section class=\"periods\" aria-labelledby=\"periods-h\">\n<h3 id=\"periods-h\">");
    h.text(t.get(if no_marks {
        "attendance"
    } else {
        "marks_by_period"
    }));
    h.raw("</h3>\n");
    if no_marks {
        h.raw("<p class=\"muted\">");
        h.text(t.get("no_marks_grade1"));
        h.raw("</p>\n");
    }
    for p in periods {
        period(&mut h, t, p);
    }
    if !no_marks {
        h.raw("<p class=\"muted small\">");
        h.text(t.get("forecast_note"));
        h.raw("</p>\n");
    }
    h.raw("</section>");
    h.0
}

fn period(h: &mut Html, t: &Strings, p: &PeriodView) {
    h.raw("<details class=\"period\"");
    if p.current {
        h.raw(" open");
    }
    if let Some(rules) = p.takes_rules.as_deref().filter(|r| !r.is_empty()) {
        h.attr("data-takes-rules", rules);
    }
    h.raw(">\n<summary>");
    h.text(&p.name);
    h.raw(" <span class=\"muted\">");
    h.text(&p.dates);
    h.raw("</span></summary>\n");
    // The marks one by one: the current term only (the others have them in their weeks).
    let listed = !p.is_year && !p.brief;
    if !p.subjects.is_empty() {
        h.raw("<table class=\"marks-table\">\n<thead><tr>");
        h.col(t.get("subject"));
        if listed {
            h.col(t.get("marks"));
        }
        if !p.exam {
            h.col(t.get("average"));
        }
        h.col(t.get("period_mark"));
        h.raw("</tr></thead>\n<tbody>\n");
        for s in &p.subjects {
            subject(h, t, p, listed, s);
        }
        h.raw("</tbody>\n</table>\n");
    }
    if !p.exam {
        let a = &p.attendance;
        h.raw("<p class=\"attendance\">");
        h.text(t.get("attendance"));
        h.raw(": ");
        let counts = [
            ("att_ill", a.ill),
            ("att_excused", a.excused),
            ("att_unexcused", a.unexcused),
            ("att_absent", a.absent),
            ("att_late", a.late),
        ];
        for (i, (key, n)) in counts.into_iter().enumerate() {
            if i > 0 {
                h.raw(" · ");
            }
            h.text(t.get(key));
            h.raw(" ");
            h.num(n);
        }
        h.raw(" <span class=\"muted\">(");
        h.text(t.get("lessons_unit"));
        h.raw(")</span></p>\n");
    }
    h.raw("</details>\n");
}

fn subject(h: &mut Html, t: &Strings, p: &PeriodView, listed: bool, s: &SubjectRow) {
    h.raw("<tr");
    if let Some(takes) = &s.takes {
        h.attr("data-takes", takes);
        h.attr("data-takes-min", &s.takes_min.to_string());
    }
    h.raw("><th scope=\"row\">");
    h.text(&s.subject);
    h.raw("</th>\n");
    if listed {
        h.raw("<td class=\"mlist\">");
        for (i, m) in s.marks.iter().enumerate() {
            if i > 0 {
                h.raw(" ");
            }
            h.raw("<span class=\"mark\" title=\"");
            h.text(&m.date);
            h.raw(" ");
            h.text(&m.title);
            h.raw("\">");
            h.text(&m.value);
            h.raw("</span>");
        }
        h.raw("</td>\n");
    }
    if !p.exam {
        h.raw("<td>");
        h.text(s.average.as_deref().unwrap_or("—"));
        h.raw("</td>\n");
    }
    h.raw("<td>");
    let mark = s.mark.as_deref().unwrap_or_default();
    match s.state {
        "final" => {
            h.raw("<strong>");
            h.text(mark);
            h.raw("</strong>");
            if let Some(comment) = s.comment.as_deref().filter(|c| !c.is_empty()) {
                h.raw(" <span class=\"pm-comment small\">«");
                h.text(comment);
                h.raw("»</span>");
            }
        }
        "forecast" => {
            h.raw("<span class=\"forecast\"");
            h.attr("title", t.get("forecast"));
            h.raw(">");
            h.text(mark);
            h.raw("?</span>");
        }
        "not_enough" => {
            h.raw("<span class=\"muted\">");
            h.text(t.get("not_enough"));
            h.raw(" (");
            h.num(s.count);
            h.raw("/");
            h.num(s.needed);
            h.raw(")</span>");
        }
        _ => h.raw("—"),
    }
    h.raw("</td></tr>\n");
}

/// Markup of the marks' tables only.
impl Html {
    /// A header cell.
    fn col(&mut self, label: &str) {
        self.raw("<th scope=\"col\">");
        self.text(label);
        self.raw("</th>");
    }

    fn num(&mut self, n: usize) {
        let _ = write!(self.0, "{n}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{Renderer, Theme, squeeze_html};
    use crate::views::{AttendanceTotals, MarkBrief};

    /// The markup as the theme's template wrote it before it moved here: whatever the
    /// periods hold, the two must agree byte for byte once squeezed.
    const TEMPLATE: &str = r#"<section class="periods" aria-labelledby="periods-h">
<h3 id="periods-h">{% if no_marks %}{{ t.attendance }}{% else %}{{ t.marks_by_period }}{% endif %}</h3>
{% if no_marks %}<p class="muted">{{ t.no_marks_grade1 }}</p>{% endif %}
{% for p in periods %}
<details class="period"{% if p.current %} open{% endif %}{% if p.takes_rules %} data-takes-rules="{{ p.takes_rules }}"{% endif %}>
  <summary>{{ p.name }} <span class="muted">{{ p.dates }}</span></summary>
  {% if p.subjects %}
  <table class="marks-table">
    <thead><tr><th scope="col">{{ t.subject }}</th>{% if not p.is_year and not p.brief %}<th scope="col">{{ t.marks }}</th>{% endif %}{% if not p.exam %}<th scope="col">{{ t.average }}</th>{% endif %}<th scope="col">{{ t.period_mark }}</th></tr></thead>
    <tbody>
    {% for s in p.subjects %}
      <tr{% if s.takes is string %} data-takes="{{ s.takes }}" data-takes-min="{{ s.takes_min }}"{% endif %}><th scope="row">{{ s.subject }}</th>
        {% if not p.is_year and not p.brief %}<td class="mlist">{% for m in s.marks %}<span class="mark" title="{{ m.date }} {{ m.title }}">{{ m.value }}</span>{% if not loop.last %} {% endif %}{% endfor %}</td>{% endif %}
        {% if not p.exam %}<td>{{ s.average | default(value="—") }}</td>{% endif %}
        <td>{% if s.state == "final" %}<strong>{{ s.mark }}</strong>{% if s.comment %} <span class="pm-comment small">«{{ s.comment }}»</span>{% endif %}{% elif s.state == "forecast" %}<span class="forecast" title="{{ t.forecast }}">{{ s.mark }}?</span>{% elif s.state == "not_enough" %}<span class="muted">{{ t.not_enough }} ({{ s.count }}/{{ s.needed }})</span>{% else %}—{% endif %}</td></tr>
    {% endfor %}
    </tbody>
  </table>
  {% endif %}
  {% if not p.exam %}<p class="attendance">{{ t.attendance }}: {{ t.att_ill }} {{ p.attendance.ill }} · {{ t.att_excused }} {{ p.attendance.excused }} · {{ t.att_unexcused }} {{ p.attendance.unexcused }} · {{ t.att_absent }} {{ p.attendance.absent }} · {{ t.att_late }} {{ p.attendance.late }} <span class="muted">({{ t.lessons_unit }})</span></p>{% endif %}
</details>
{% endfor %}
{% if not no_marks %}<p class="muted small">{{ t.forecast_note }}</p>{% endif %}
</section>"#;

    fn row(subject: &str, state: &'static str, marks: &[&str]) -> SubjectRow {
        SubjectRow {
            subject: subject.to_string(),
            marks: marks
                .iter()
                .map(|v| MarkBrief {
                    value: v.to_string(),
                    date: "вт, 10 ноября".to_string(),
                    title: "Работа \"на уроке\" <1>".to_string(),
                })
                .collect(),
            average: (!marks.is_empty()).then(|| "4,50".to_string()),
            state,
            mark: (state == "final" || state == "forecast").then(|| "4".to_string()),
            comment: None,
            count: marks.len(),
            needed: 3,
            takes: None,
            takes_min: 3,
        }
    }

    fn period(name: &str, subjects: Vec<SubjectRow>) -> PeriodView {
        PeriodView {
            name: name.to_string(),
            dates: "1 сентября – 25 октября 2026".to_string(),
            current: false,
            is_year: false,
            brief: false,
            exam: false,
            subjects,
            attendance: AttendanceTotals {
                absent: 1,
                ill: 2,
                excused: 3,
                unexcused: 4,
                late: 5,
            },
            takes_rules: None,
        }
    }

    fn every_kind() -> Vec<PeriodView> {
        let mut closed = period("1 четверть", vec![row("Алгебра", "final", &["5", "4"])]);
        closed.brief = true;
        closed.subjects[0].comment = Some("Молодец & «умница»".to_string());
        let mut current = period(
            "2 четверть",
            vec![
                row("Английский <язык>", "forecast", &["4", "3", "5"]),
                row("Биология", "not_enough", &["5"]),
                row("Музыка", "none", &[]),
                row("Химия", "final", &["3"]),
            ],
        );
        current.current = true;
        current.takes_rules = Some(r#"{"min":1,"max":5}"#.to_string());
        current.subjects[0].takes = Some("4 3*2 5".to_string());
        current.subjects[1].takes = Some(String::new());
        current.subjects[3].comment = Some(String::new());
        let mut empty = period("3 четверть", Vec::new());
        empty.takes_rules = Some(String::new());
        let mut year = period("Год", vec![row("Алгебра", "final", &["5"])]);
        year.is_year = true;
        let mut exam = period("Экзамен", vec![row("Алгебра", "final", &[])]);
        exam.is_year = true;
        exam.exam = true;
        let mut no_exam = period("Экзамен", Vec::new());
        no_exam.exam = true;
        vec![closed, current, empty, year, exam, no_exam]
    }

    #[test]
    fn written_as_the_template_wrote_it() {
        let mut theme = Theme::builtin();
        theme.set_template("periods_before.html", TEMPLATE);
        for language in [crate::config::Language::Ru, crate::config::Language::En] {
            let r = Renderer::new(&theme, language).unwrap();
            #[derive(serde::Serialize)]
            struct Before<'a> {
                no_marks: bool,
                periods: &'a [PeriodView],
            }
            let all = every_kind();
            for periods in [&all[..], &all[..1], &[]] {
                for no_marks in [false, true] {
                    let before = Before { no_marks, periods };
                    let tera = r.render("periods_before.html", "../", &before).unwrap();
                    let html = periods_html(&r.strings, no_marks, periods);
                    assert_eq!(html, squeeze_html(&tera));
                }
            }
        }
    }

    #[test]
    fn text_is_escaped() {
        let r = Renderer::new(&Theme::builtin(), crate::config::Language::Ru).unwrap();
        let html = periods_html(&r.strings, false, &every_kind());
        assert!(html.contains("Английский &lt;язык&gt;"), "{html}");
        assert!(html.contains("title=\"вт, 10 ноября Работа &quot;на уроке&quot; &lt;1&gt;\""));
        assert!(html.contains("«Молодец &amp; «умница»»"));
        assert!(html.contains("data-takes-rules=\"{&quot;min&quot;:1,&quot;max&quot;:5}\""));
        assert!(!html.contains("<1>"));
    }
}
