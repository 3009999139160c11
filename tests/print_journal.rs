//! `diary print journal`: the class journal for the archive, through Chromium to PDF. The
//! count of sheets certified on the title page is the PDF's page count, every page carries
//! its sheet number, each subject has its section, the grid holds the journal's marks and
//! attendance letters lesson by lesson with the term's mark after the term's last lesson,
//! and bad input writes nothing. PDFs need Debian's `chromium` and `pdftotext` and
//! `pdfinfo` (poppler-utils).

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn needs_chromium() {
    Tool::Chromium.require();
    Tool::Pdftotext.require();
}

/// The text of each page of a PDF (`pdftotext -layout`, split on form feeds).
fn pdf_pages(pdf: &Path) -> Vec<String> {
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut pages: Vec<String> = text.split('\u{c}').map(String::from).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}

/// The page count `pdfinfo` reports, else the form feeds `pdftotext` writes.
fn page_count(pdf: &Path) -> usize {
    if let Ok(out) = Command::new("pdfinfo").arg(pdf).output()
        && out.status.success()
    {
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if let Some(line) = text.lines().find(|l| l.starts_with("Pages:")) {
            return line["Pages:".len()..].trim().parse().unwrap();
        }
    }
    pdf_pages(pdf).len()
}

fn squeeze(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

const LETTERS: [(&str, &str); 5] = [
    ("absent", "н"),
    ("ill", "б"),
    ("excused", "у"),
    ("unexcused", "нп"),
    ("late", "о"),
];

#[test]
fn the_journal_certifies_as_many_sheets_as_it_prints() {
    needs_chromium();
    let (_tmp, site) = demo_site(24);
    diary()
        .arg("-C")
        .arg(&site)
        .args(["print", "journal", "--class", "5А", "--pdf"])
        .assert()
        .success();
    let pdf = site.join("print/journal-5a-2026-2027.pdf");
    assert!(site.join("print/journal-5a-2026-2027.html").is_file());
    let pages = pdf_pages(&pdf);
    let count = page_count(&pdf);
    assert_eq!(pages.len(), count);
    assert!(count > 10, "a year of eleven subjects: {count} pages");

    // The title page certifies exactly the pages printed, in the number's word form.
    let title = squeeze(&pages[0]);
    let word = match (count % 10, count % 100) {
        (1, n) if n != 11 => "лист",
        (2..=4, n) if !(12..=14).contains(&n) => "листа",
        _ => "листов",
    };
    let certified = format!("В журнале пронумеровано и прошнуровано {count} {word}");
    assert!(title.contains(&certified), "{certified:?} on\n{title}");
    assert!(title.contains("Классный журнал"), "{title}");
    assert!(title.contains("5А класс"), "{title}");
    assert!(title.contains("2026/2027 учебный год"), "{title}");
    assert!(title.contains("Директор"), "{title}");
    assert!(title.contains("М.П."), "{title}");
    // Every page carries its own sheet number, 1 to N, in order.
    for (i, page) in pages.iter().enumerate() {
        let last = page.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
        assert_eq!(squeeze(last), format!("лист {}", i + 1), "page {}", i + 1);
    }

    let all = squeeze(&pages.join("\n"));
    // The legend of attendance letters.
    for (status, letter) in LETTERS {
        let words = match status {
            "absent" => "отсутствовал(а)",
            "ill" => "по болезни",
            "excused" => "по уважительной причине",
            "unexcused" => "без уважительной причины",
            _ => "опоздание",
        };
        assert!(
            all.contains(&format!("{letter} — {words}")),
            "legend {letter}"
        );
    }
    // Each subject taught in 5А up to the day printed has its numbered section, by name.
    let subjects = query(
        &site,
        "SELECT DISTINCT s.name FROM lessons l JOIN subjects s ON s.id = l.subject_id
         JOIN classes c ON c.id = l.class_id
         WHERE c.name = '5А' AND l.cancelled = 0 AND l.date <= '2026-11-23' ORDER BY s.name",
    );
    assert!(subjects.len() >= 8, "{subjects:?}");
    for (i, s) in subjects.iter().enumerate() {
        let head = format!("{}. {}", i + 1, s[0]);
        assert!(all.contains(&head), "section {head:?}");
    }
    // A known topic (the shortest, so it is on one line) appears.
    let topic = &query(
        &site,
        "SELECT l.topic FROM lessons l JOIN classes c ON c.id = l.class_id
         WHERE c.name = '5А' AND l.cancelled = 0 AND l.date <= '2026-11-23'
           AND l.topic IS NOT NULL ORDER BY length(l.topic), l.id LIMIT 1",
    )[0][0];
    assert!(all.contains(topic.as_str()), "topic {topic:?}");
    // A lesson after the day printed is not in the journal.
    assert!(
        !all.contains("01.12"),
        "a December lesson printed on 23 November"
    );
    // The final page: the year's summary of marks and of absences.
    let last = squeeze(pages.last().unwrap());
    assert!(last.contains("Итоги года: 5А, 2026/2027"), "{last}");
    assert!(last.contains("Пропуски уроков за год"), "{last}");
}

/// The cells of a pupil's rows in the marks grid of a subject's section of the journal's
/// HTML: (class, text) of every cell after the name, part after part.
fn grid_cells(html: &str, subject: &str, pupil: &str) -> Vec<(String, String)> {
    let start = html
        .find(&format!(". {subject}</h2>"))
        .unwrap_or_else(|| panic!("no section {subject}"));
    let end = html[start..].find("</section>").unwrap() + start;
    let section = &html[start..end];
    let mut cells = Vec::new();
    let name = format!("<td class=\"name\">{pupil}</td>");
    for (at, _) in section.match_indices(&name) {
        let row = &section[at + name.len()..];
        let row = &row[..row.find("<td class=\"rest\">").unwrap()];
        for cell in row.split("<td").skip(1) {
            let (attrs, rest) = cell.split_once('>').unwrap();
            let text = rest.trim_end_matches("</td>").to_string();
            let class = attrs
                .trim()
                .strip_prefix("class=\"")
                .map(|c| c.trim_end_matches('"').to_string())
                .unwrap_or_default();
            cells.push((class, text));
        }
    }
    cells
}

#[test]
fn the_grid_holds_each_lessons_marks_and_letters_and_the_terms_mark() {
    let (_tmp, site) = demo_site(24);
    // Without Chromium the journal is written with the count left blank, and says why.
    let out = diary()
        .arg("-C")
        .arg(&site)
        .env("DIARY_CHROMIUM", "/nonexistent/chromium")
        .args(["print", "journal", "--class", "5А"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("left blank"), "{stderr}");
    assert!(stderr.contains("/nonexistent/chromium"), "{stderr}");
    let html = std::fs::read_to_string(site.join("print/journal-5a-2026-2027.html")).unwrap();
    assert!(html.contains("прошнуровано <span class=\"blank short\"></span> листов"));

    // The first pupil of 5А and Russian (whole-class lessons).
    let pupil = &query(
        &site,
        "SELECT s.id, s.last_name || ' ' || s.first_name FROM students s
         JOIN classes c ON c.id = s.class_id WHERE c.name = '5А'
         ORDER BY s.last_name, s.first_name, s.middle_name, s.id LIMIT 1",
    )[0];
    let (id, name) = (&pupil[0], &pupil[1]);
    // Per lesson given up to the day printed, by date and number: the pupil's marks and
    // attendance status.
    let lessons = query(
        &site,
        &format!(
            "SELECT l.id,
               (SELECT group_concat(trim(m.value), ' ') FROM marks m
                 WHERE m.lesson_id = l.id AND m.student_id = {id} AND trim(m.value) <> ''),
               (SELECT a.status FROM attendance a WHERE a.lesson_id = l.id AND a.student_id = {id})
             FROM lessons l JOIN classes c ON c.id = l.class_id
             JOIN subjects s ON s.id = l.subject_id
             WHERE c.name = '5А' AND s.name = 'Русский язык' AND l.cancelled = 0
               AND l.date <= '2026-11-23'
             ORDER BY l.date, l.number, l.id"
        ),
    );
    let tokens = |s: &str| {
        let mut t: Vec<String> = s.split_whitespace().map(String::from).collect();
        t.sort();
        t
    };
    let want: Vec<Vec<String>> = lessons
        .iter()
        .map(|l| {
            let letter = LETTERS
                .iter()
                .find(|(s, _)| *s == l[2])
                .map_or("", |(_, letter)| letter);
            tokens(&format!("{} {letter}", l[1]))
        })
        .collect();
    assert!(
        want.iter().filter(|c| !c.is_empty()).count() >= 3,
        "the pupil has marks or absences in Russian: {want:?}"
    );
    let cells = grid_cells(&html, "Русский язык", name);
    let got: Vec<Vec<String>> = cells
        .iter()
        .filter(|(class, _)| class.is_empty())
        .map(|(_, text)| tokens(text))
        .collect();
    assert_eq!(got, want, "{name}'s Russian lessons, cell by cell");

    // The first term's column comes after its last lesson and holds the teacher's mark.
    let term = query(
        &site,
        &format!(
            "SELECT pm.value, (SELECT count(*) FROM lessons l JOIN classes c ON c.id = l.class_id
                 WHERE c.name = '5А' AND l.subject_id = s.id AND l.cancelled = 0
                   AND l.date <= p.ends_on)
             FROM period_marks pm JOIN periods p ON p.id = pm.period_id
             JOIN subjects s ON s.id = pm.subject_id
             WHERE pm.student_id = {id} AND s.name = 'Русский язык' AND p.name = '1 четверть'"
        ),
    );
    assert_eq!(term.len(), 1, "the demo sets the first term's mark");
    let (mark, before): (&str, usize) = (&term[0][0], term[0][1].parse().unwrap());
    let per = cells.iter().position(|(c, _)| c == "per").unwrap();
    assert_eq!(
        per, before,
        "the term's column follows its {before} lessons"
    );
    assert_eq!(cells[per].1, mark.trim());
    assert!(html.contains(">1 ч</th>"));
}

#[test]
fn bad_input_writes_nothing() {
    let (_tmp, site) = demo_site(24);
    let print = site.join("print");
    refused(&site, &["print", "journal", "--class", "5Я"], &["5Я"]);
    refused(
        &site,
        &["print", "journal", "--class", "5А", "--year", "2019"],
        &["no academic year \"2019\"", "2026/2027"],
    );
    refused(
        &site,
        &["print", "journal", "--class", "all"],
        &["one class at a time"],
    );
    // --pdf without a browser: nothing, not even the HTML.
    let out = diary()
        .arg("-C")
        .arg(&site)
        .env("DIARY_CHROMIUM", "/nonexistent/chromium")
        .args(["print", "journal", "--class", "5А", "--pdf"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing was written"));
    // A class whose lessons were all cancelled has no journal.
    sql(
        &site,
        "UPDATE lessons SET cancelled = 1 WHERE class_id = (SELECT id FROM classes WHERE name = '5А')",
    );
    refused(
        &site,
        &["print", "journal", "--class", "5А"],
        &["class 5А has no lessons given in the academic year 2026/2027"],
    );
    assert!(tree(&print).is_empty(), "{:?}", tree(&print).keys());
    assert!(
        tree(&site.join("public"))
            .keys()
            .all(|k| !k.contains("journal"))
    );
}
