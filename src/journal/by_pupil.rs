//! A pupil's rows of the journal, indexed once per command: marks, attendance, groups and
//! period marks by pupil. The diary step and the printouts read pupils through it.

use rustc_hash::{FxHashMap, FxHashSet};

use super::{Attendance, Groups, Id, Journal, Lesson, Mark, PeriodMark, Remark, group_by};

/// Each pupil's marks, attendance, groups and period marks.
pub(crate) struct ByPupil<'a> {
    marks: Groups<'a, Id, Mark>,
    attendance: Groups<'a, Id, Attendance>,
    groups: PupilGroups,
    period_marks: Groups<'a, Id, PeriodMark>,
    remarks: Groups<'a, Id, Remark>,
}

/// The groups each pupil is in.
pub(crate) struct PupilGroups(FxHashMap<Id, FxHashSet<Id>>);

impl PupilGroups {
    pub(crate) fn new(j: &Journal) -> PupilGroups {
        let mut groups: FxHashMap<Id, FxHashSet<Id>> = FxHashMap::default();
        for gs in &j.group_students {
            groups.entry(gs.student_id).or_default().insert(gs.group_id);
        }
        PupilGroups(groups)
    }

    /// Whether a pupil is taught the lessons of `group` (`None`: the whole class).
    pub(crate) fn attends_group(&self, student: Id, group: Option<Id>) -> bool {
        group.is_none_or(|g| self.0.get(&student).is_some_and(|gs| gs.contains(&g)))
    }
}

impl<'a> ByPupil<'a> {
    pub(crate) fn new(j: &'a Journal) -> ByPupil<'a> {
        // The marks and the attendance of the year are the two large tables: side by side.
        let ((marks, period_marks), (attendance, (remarks, groups))) = rayon::join(
            || {
                (
                    group_by(&j.marks, |m| m.student_id),
                    group_by(&j.period_marks, |pm| pm.student_id),
                )
            },
            || {
                (
                    group_by(&j.attendance, |a| a.student_id),
                    (group_by(&j.remarks, |r| r.student_id), PupilGroups::new(j)),
                )
            },
        );
        ByPupil {
            marks,
            attendance,
            groups,
            period_marks,
            remarks,
        }
    }

    /// Whether a pupil is taught a lesson: a whole-class lesson, or one of the pupil's group.
    pub(crate) fn attends(&self, student: Id, lesson: &Lesson) -> bool {
        self.attends_group(student, lesson.group_id)
    }

    /// Whether a pupil is taught the lessons of `group` (`None`: the whole class).
    pub(crate) fn attends_group(&self, student: Id, group: Option<Id>) -> bool {
        self.groups.attends_group(student, group)
    }

    pub(crate) fn marks_of(&self, student: Id) -> &[&'a Mark] {
        self.marks.get(&student)
    }

    pub(crate) fn attendance_of(&self, student: Id) -> &[&'a Attendance] {
        self.attendance.get(&student)
    }

    pub(crate) fn period_marks_of(&self, student: Id) -> &[&'a PeriodMark] {
        self.period_marks.get(&student)
    }

    /// Teachers' remarks about a pupil, by date.
    pub(crate) fn remarks_of(&self, student: Id) -> &[&'a Remark] {
        self.remarks.get(&student)
    }

    /// The teacher's mark of a pupil for a subject and period, if set.
    pub(crate) fn period_mark(
        &self,
        student: Id,
        subject: Id,
        period: Id,
    ) -> Option<&'a PeriodMark> {
        self.period_marks_of(student)
            .iter()
            .find(|pm| pm.subject_id == subject && pm.period_id == period)
            .copied()
    }
}
