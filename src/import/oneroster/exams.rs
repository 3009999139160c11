//! Exams and final marks: which academic sessions are exam sessions, and which line items'
//! results are exam or final (итоговые) marks, told by their titles. The rule is
//! documented for school admins in docs/import-oneroster.md ("Exams and final marks").

use crate::config::{DEFAULT_EXAM_TITLES, DEFAULT_FINAL_TITLES, Language, OneRosterImport};

/// What a title denotes besides ordinary work: the journal period kind whose period marks
/// its results are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Attested {
    Exam,
    Final,
}

impl Attested {
    /// The journal's `periods.kind`.
    pub(super) fn kind(self) -> &'static str {
        match self {
            Attested::Exam => "exam",
            Attested::Final => "final",
        }
    }

    /// The name of a period the import makes of this kind (when the export has none).
    pub(super) fn period_name(self, language: Language) -> &'static str {
        match (self, language) {
            (Attested::Exam, Language::Ru) => "Экзамены",
            (Attested::Exam, Language::En) => "Exams",
            (Attested::Final, Language::Ru) => "Итоговая отметка",
            (Attested::Final, Language::En) => "Final mark",
        }
    }
}

/// The phrases of `[import.oneroster] exam_titles` and `final_titles`, as words.
pub(super) struct Titles {
    exam: Vec<Vec<String>>,
    last: Vec<Vec<String>>,
}

impl Titles {
    pub(super) fn new(settings: &OneRosterImport) -> Titles {
        let phrases = |set: &Option<Vec<String>>, default: &[&str]| -> Vec<Vec<String>> {
            match set {
                Some(list) => list.iter().map(|p| words(p)).collect(),
                None => default.iter().map(|p| words(p)).collect(),
            }
        };
        Titles {
            exam: phrases(&settings.exam_titles, &DEFAULT_EXAM_TITLES),
            last: phrases(&settings.final_titles, &DEFAULT_FINAL_TITLES),
        }
    }

    /// What `title` denotes: the final mark if a phrase of `final_titles` is in it, else an
    /// exam if one of `exam_titles` is ("Final exam" is an exam; "Итоговая отметка за
    /// экзамен" the final mark).
    pub(super) fn of(&self, title: &str) -> Option<Attested> {
        let title = words(title);
        let has = |phrases: &[Vec<String>]| phrases.iter().any(|p| contains(&title, p));
        if has(&self.last) {
            Some(Attested::Final)
        } else if has(&self.exam) {
            Some(Attested::Exam)
        } else {
            None
        }
    }

    /// True if `title` names an exam session (the final mark has no dates of its own).
    pub(super) fn is_exam(&self, title: &str) -> bool {
        let title = words(title);
        self.exam.iter().any(|p| contains(&title, p))
    }
}

/// The words of `s`, lower case: runs of letters and digits.
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// True if `phrase` (at least one word) is in `title`: consecutive words of the title each
/// starting with the phrase's word in its place.
fn contains(title: &[String], phrase: &[String]) -> bool {
    !phrase.is_empty()
        && title.windows(phrase.len()).any(|w| {
            w.iter()
                .zip(phrase)
                .all(|(word, p)| word.starts_with(p.as_str()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn titles(exam: Option<&[&str]>, last: Option<&[&str]>) -> Titles {
        let list = |l: Option<&[&str]>| l.map(|l| l.iter().map(|s| s.to_string()).collect());
        Titles::new(&OneRosterImport {
            exam_titles: list(exam),
            final_titles: list(last),
            ..OneRosterImport::default()
        })
    }

    #[test]
    fn default_phrases() {
        let t = titles(None, None);
        for (title, want) in [
            ("Экзамен", Some(Attested::Exam)),
            ("Экзаменационная работа по математике", Some(Attested::Exam)),
            ("Переводные экзамены", Some(Attested::Exam)),
            ("Final Exam", Some(Attested::Exam)),
            ("Examination (written)", Some(Attested::Exam)),
            ("Итоговая отметка", Some(Attested::Final)),
            ("Итоговые оценки", Some(Attested::Final)),
            ("Итоговая отметка за экзамен", Some(Attested::Final)),
            ("Final grades", Some(Attested::Final)),
            // Ordinary work, though its words come close.
            ("Итоговая контрольная работа", None),
            ("Final project", None),
            ("Reexamine the draft", None),
            ("Контрольная работа", None),
        ] {
            assert_eq!(t.of(title), want, "{title}");
        }
        assert!(t.is_exam("Экзаменационная сессия"));
        assert!(!t.is_exam("Итоговая отметка"));
    }

    #[test]
    fn phrases_from_settings() {
        let t = titles(Some(&[]), Some(&["годов"]));
        assert_eq!(t.of("Экзамен"), None);
        assert_eq!(t.of("Годовая отметка"), Some(Attested::Final));
        let t = titles(Some(&["ОГЭ", "гиа"]), None);
        assert_eq!(t.of("ОГЭ по математике"), Some(Attested::Exam));
        assert_eq!(t.of("ГИА-9"), Some(Attested::Exam));
        assert_eq!(t.of("Экзамен"), None);
    }
}
