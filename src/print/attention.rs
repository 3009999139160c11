//! The attention list (`diary print attention`): per class, the pupils the class teacher
//! informs the family about (failing, too few marks, absences without a valid reason or
//! without a reason, debts), each with the guardians' names and contacts. The warnings are
//! the ones the child's diary shows at its top (`views::attention`).

use anyhow::Result;
use chrono::NaiveDate;
use rayon::prelude::*;
use serde::Serialize;

use crate::check::Loaded;
use crate::journal::{Class, Student, full_name};
use crate::render::Renderer;
use crate::views::{DiaryIndex, HomeworkIndex, Inputs};

#[derive(Serialize)]
pub(super) struct GuardianLine {
    pub name: String,
    pub contact: Option<String>,
}

#[derive(Serialize)]
pub(super) struct PupilItem {
    pub number: usize,
    pub name: String,
    pub warnings: Vec<String>,
    pub guardians: Vec<GuardianLine>,
}

#[derive(Serialize)]
pub(super) struct AttentionDoc {
    pub school: String,
    pub class: String,
    pub teacher: Option<String>,
    pub printed: String,
    /// Only pupils with something to flag; empty: the class has nobody.
    pub pupils: Vec<PupilItem>,
}

/// The attention lists of `classes` as of `today`, one document per class, in order.
pub(super) fn documents<'c>(
    loaded: &Loaded,
    renderer: &Renderer,
    classes: &[&'c Class],
    today: NaiveDate,
) -> Vec<(&'c Class, AttentionDoc)> {
    let j = &loaded.journal;
    let inputs = Inputs::new(
        j,
        &loaded.site.config,
        &loaded.posts,
        &renderer.strings,
        today,
    );
    let hw = HomeworkIndex::new(j);
    let ix = DiaryIndex::new(j, &loaded.site.config.grading);
    classes
        .par_iter()
        .map(|class| (*class, document(&inputs, &hw, &ix, class)))
        .collect()
}

fn document(inputs: &Inputs, hw: &HomeworkIndex, ix: &DiaryIndex, class: &Class) -> AttentionDoc {
    let j = inputs.journal;
    let mut pupils: Vec<&Student> = j
        .students
        .iter()
        .filter(|s| s.class_id == class.id)
        .collect();
    pupils.sort_by(|a, b| {
        (&a.last_name, &a.first_name, &a.middle_name, a.id).cmp(&(
            &b.last_name,
            &b.first_name,
            &b.middle_name,
            b.id,
        ))
    });
    let items = pupils
        .iter()
        .filter_map(|s| {
            let warnings = inputs.warnings(s, class, hw, ix);
            (!warnings.is_empty()).then_some((s, warnings))
        })
        .enumerate()
        .map(|(i, (s, warnings))| PupilItem {
            number: i + 1,
            name: s.full_name(),
            warnings: warnings.into_iter().map(|w| w.text).collect(),
            guardians: j
                .guardians_of(s.id)
                .into_iter()
                .filter_map(|g| j.guardian(g))
                .map(|g| GuardianLine {
                    name: full_name(&g.last_name, &g.first_name, g.middle_name.as_deref()),
                    contact: g.contact.clone().filter(|c| !c.trim().is_empty()),
                })
                .collect(),
        })
        .collect();
    AttentionDoc {
        school: j.school.short_name.clone(),
        class: class.name.clone(),
        teacher: class
            .class_teacher_id
            .and_then(|t| j.teacher(t))
            .map(|t| t.full_name()),
        printed: inputs.strings.date(inputs.today),
        pupils: items,
    }
}

/// The file name of a class's list: `attention-5b-2026-12-20.html`.
pub(super) fn file_name(class: &Class, today: NaiveDate) -> String {
    format!("attention-{}-{today}.html", crate::text::slug(&class.name))
}

/// Renders a class's list.
pub(super) fn render(renderer: &Renderer, doc: &AttentionDoc) -> Result<String> {
    renderer.render("print/attention.html", "", doc)
}
