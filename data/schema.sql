-- diary journal schema, version 2 (`diary upgrade` converts a version-1 journal).
--
-- The electronic class journal that `diary` reads. Table and column names are a public
-- interface: importers and other tools write them, `diary check` validates them, and
-- docs/journal.md describes each one. Dates are ISO-8601 text (YYYY-MM-DD); datetimes are
-- 'YYYY-MM-DD HH:MM' (or with ':SS', or a 'T' separator) in the school's local time
-- (site.toml `timezone`). Booleans are integers 0/1. Text written by teachers (topics,
-- homework, comments, announcements) is untrusted: `diary` escapes and sanitizes it.
--
-- A build opens the journal read-only. Only `diary init --demo`, `diary demo`,
-- `diary import` and `diary upgrade` write it, each inside one transaction.
--
-- Columns whose values come from a fixed list but carry no CHECK here (remarks.kind,
-- guardians.delivery, lessons.homework_minutes) are checked by `diary check`, which names
-- the row, so a tool writing the journal directly is not stopped by one wrong row;
-- `diary import csv` refuses such a value before writing, naming file, line and column.

PRAGMA user_version = 2;

CREATE TABLE school (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    short_name  TEXT NOT NULL,
    is_demo     INTEGER NOT NULL DEFAULT 0 CHECK (is_demo IN (0, 1)),
    address     TEXT,
    contact     TEXT
);

CREATE TABLE academic_years (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    starts_on   TEXT NOT NULL,
    ends_on     TEXT NOT NULL
);

-- kind: the terms a year is marked by ('quarter', 'trimester' or 'half'), the 'year', and
-- (since v2) the 'exam' (its dates: the exam session) and the 'final' (итоговая) mark.
CREATE TABLE periods (
    id          INTEGER PRIMARY KEY,
    year_id     INTEGER NOT NULL REFERENCES academic_years(id),
    kind        TEXT NOT NULL CHECK (kind IN ('quarter', 'trimester', 'half', 'year', 'exam', 'final')),
    number      INTEGER NOT NULL,
    name        TEXT NOT NULL,
    starts_on   TEXT NOT NULL,
    ends_on     TEXT NOT NULL
);

-- Holidays and days off. `grade` limits a holiday to one grade (the extra February week
-- of first-graders); NULL means the whole school.
CREATE TABLE holidays (
    id          INTEGER PRIMARY KEY,
    year_id     INTEGER NOT NULL REFERENCES academic_years(id),
    name        TEXT NOT NULL,
    starts_on   TEXT NOT NULL,
    ends_on     TEXT NOT NULL,
    grade       INTEGER
);

CREATE TABLE teachers (
    id          INTEGER PRIMARY KEY,
    last_name   TEXT NOT NULL,
    first_name  TEXT NOT NULL,
    middle_name TEXT,
    contact     TEXT
);

CREATE TABLE classes (
    id               INTEGER PRIMARY KEY,
    year_id          INTEGER NOT NULL REFERENCES academic_years(id),
    grade            INTEGER NOT NULL CHECK (grade BETWEEN 1 AND 11),
    letter           TEXT NOT NULL,
    name             TEXT NOT NULL,
    class_teacher_id INTEGER REFERENCES teachers(id),
    -- v2: the shift the class studies in (1 or 2); its bell times are the shift's.
    shift            INTEGER NOT NULL DEFAULT 1 CHECK (shift IN (1, 2))
);

CREATE TABLE students (
    id          INTEGER PRIMARY KEY,
    class_id    INTEGER NOT NULL REFERENCES classes(id),
    last_name   TEXT NOT NULL,
    first_name  TEXT NOT NULL,
    middle_name TEXT
);

CREATE TABLE guardians (
    id          INTEGER PRIMARY KEY,
    last_name   TEXT NOT NULL,
    first_name  TEXT NOT NULL,
    middle_name TEXT,
    contact     TEXT,
    -- v2: how the family receives the diary: 'online' (an access code) or 'paper'
    -- (printed sheets only; `diary codes issue` skips them).
    delivery    TEXT NOT NULL DEFAULT 'online',
    -- v2: the date the guardian consented to receive information through the diary.
    consent_on  TEXT
);

CREATE TABLE student_guardians (
    student_id  INTEGER NOT NULL REFERENCES students(id),
    guardian_id INTEGER NOT NULL REFERENCES guardians(id),
    relation    TEXT,
    PRIMARY KEY (student_id, guardian_id)
);

CREATE TABLE subjects (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    short_name  TEXT NOT NULL
);

-- Subgroups of a class for one subject (English group 1 and 2, say).
CREATE TABLE groups (
    id          INTEGER PRIMARY KEY,
    class_id    INTEGER NOT NULL REFERENCES classes(id),
    subject_id  INTEGER NOT NULL REFERENCES subjects(id),
    name        TEXT NOT NULL
);

CREATE TABLE group_students (
    group_id    INTEGER NOT NULL REFERENCES groups(id),
    student_id  INTEGER NOT NULL REFERENCES students(id),
    PRIMARY KEY (group_id, student_id)
);

-- The bell schedule: lesson number → start and end time ('HH:MM'), per shift (v2).
CREATE TABLE bells (
    shift       INTEGER NOT NULL DEFAULT 1 CHECK (shift IN (1, 2)),
    number      INTEGER NOT NULL,
    starts_at   TEXT NOT NULL,
    ends_at     TEXT NOT NULL,
    PRIMARY KEY (shift, number)
);

-- The weekly plan a class's lessons are made from. weekday: 1 = Monday … 7 = Sunday.
-- starts_on/ends_on (optional) bound the dates the line applies to.
CREATE TABLE timetable (
    id          INTEGER PRIMARY KEY,
    class_id    INTEGER NOT NULL REFERENCES classes(id),
    group_id    INTEGER REFERENCES groups(id),
    subject_id  INTEGER NOT NULL REFERENCES subjects(id),
    teacher_id  INTEGER REFERENCES teachers(id),
    weekday     INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    number      INTEGER NOT NULL,
    room        TEXT,
    starts_on   TEXT,
    ends_on     TEXT
);

-- One lesson on one date. group_id NULL: the whole class. homework is what is set at this
-- lesson; homework_due is the date it is due (NULL: the next lesson of the same subject).
CREATE TABLE lessons (
    id                    INTEGER PRIMARY KEY,
    class_id              INTEGER NOT NULL REFERENCES classes(id),
    group_id              INTEGER REFERENCES groups(id),
    subject_id            INTEGER NOT NULL REFERENCES subjects(id),
    teacher_id            INTEGER REFERENCES teachers(id),
    substitute_teacher_id INTEGER REFERENCES teachers(id),
    date                  TEXT NOT NULL,
    number                INTEGER NOT NULL,
    room                  TEXT,
    topic                 TEXT,
    homework              TEXT,
    homework_due          TEXT,
    cancelled             INTEGER NOT NULL DEFAULT 0 CHECK (cancelled IN (0, 1)),
    -- v2: the teacher's estimate of the homework's time, in minutes (0–600).
    homework_minutes      INTEGER
);
CREATE INDEX lessons_class_date ON lessons (class_id, date, number);

CREATE TABLE homework_links (
    lesson_id   INTEGER NOT NULL REFERENCES lessons(id),
    url         TEXT NOT NULL,
    title       TEXT
);
CREATE INDEX homework_links_lesson ON homework_links (lesson_id);

CREATE TABLE work_types (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    weight      REAL NOT NULL DEFAULT 1
);

-- value is text: '5', '4', … on the numeric scale, or a word such as 'зч' (pass) or 'осв'
-- (exempt) that never enters an average. weight (optional) overrides the work type's.
-- is_debt = 1 marks a debt ("точка"): work still owed; value may be NULL until it is done.
CREATE TABLE marks (
    id           INTEGER PRIMARY KEY,
    student_id   INTEGER NOT NULL REFERENCES students(id),
    lesson_id    INTEGER NOT NULL REFERENCES lessons(id),
    work_type_id INTEGER REFERENCES work_types(id),
    value        TEXT,
    weight       REAL,
    comment      TEXT,
    is_debt      INTEGER NOT NULL DEFAULT 0 CHECK (is_debt IN (0, 1)),
    -- v2: when the teacher entered the mark ('YYYY-MM-DD HH:MM', local time).
    entered_at   TEXT
);
CREATE INDEX marks_student ON marks (student_id);
CREATE INDEX marks_lesson ON marks (lesson_id);

CREATE TABLE attendance (
    student_id  INTEGER NOT NULL REFERENCES students(id),
    lesson_id   INTEGER NOT NULL REFERENCES lessons(id),
    status      TEXT NOT NULL CHECK (status IN ('absent', 'ill', 'excused', 'unexcused', 'late')),
    note        TEXT,
    PRIMARY KEY (student_id, lesson_id)
);
CREATE INDEX attendance_lesson ON attendance (lesson_id);

-- The teacher's mark for a period (a quarter, or the year): it always wins over a forecast.
CREATE TABLE period_marks (
    student_id  INTEGER NOT NULL REFERENCES students(id),
    subject_id  INTEGER NOT NULL REFERENCES subjects(id),
    period_id   INTEGER NOT NULL REFERENCES periods(id),
    value       TEXT NOT NULL,
    comment     TEXT,
    -- v2: the date the teacher set the mark; before it (and before the period ends) the
    -- diary shows the forecast.
    set_on      TEXT,
    PRIMARY KEY (student_id, subject_id, period_id)
);

-- v2: a teacher's remark about a pupil: kind 'behaviour', 'achievement', 'concern' or
-- 'praise'. Private: shown in the child's diary and on family sheets, never on a board.
CREATE TABLE remarks (
    id          INTEGER PRIMARY KEY,
    student_id  INTEGER NOT NULL REFERENCES students(id),
    date        TEXT NOT NULL,
    teacher_id  INTEGER REFERENCES teachers(id),
    subject_id  INTEGER REFERENCES subjects(id),
    kind        TEXT NOT NULL,
    text        TEXT NOT NULL
);
CREATE INDEX remarks_student ON remarks (student_id, date);

-- audience 'school' (grade and class_id NULL), 'grade' (grade set) or 'class' (class_id set).
CREATE TABLE announcements (
    id           INTEGER PRIMARY KEY,
    audience     TEXT NOT NULL CHECK (audience IN ('school', 'grade', 'class')),
    grade        INTEGER,
    class_id     INTEGER REFERENCES classes(id),
    title        TEXT NOT NULL,
    body_md      TEXT NOT NULL DEFAULT '',
    published_at TEXT NOT NULL,
    expires_at   TEXT,
    pinned       INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
    author       TEXT
);

-- class_id NULL: an event of the whole school.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    class_id    INTEGER REFERENCES classes(id),
    title       TEXT NOT NULL,
    starts_at   TEXT NOT NULL,
    ends_at     TEXT,
    place       TEXT,
    description TEXT
);

-- Where a row came from, for importers that re-run: (source, kind, external_id) → the
-- journal row it became. source is e.g. 'oneroster'; kind a table name.
CREATE TABLE external_ids (
    source      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    external_id TEXT NOT NULL,
    local_id    INTEGER NOT NULL,
    PRIMARY KEY (source, kind, external_id)
);
