//! Events: each class's month list (the class teacher's monthly plan) with the school's
//! events, and the iCalendar feeds a phone calendar subscribes to.

use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;

use super::{ClassRef, Common, Inputs};
use crate::feeds::CalendarEvent;
use crate::journal::{Event, Id};

#[derive(Serialize, Clone)]
pub(crate) struct EventView {
    pub title: String,
    pub date: String,
    pub date_iso: String,
    /// "18:00–19:00", or None for an all-day event.
    pub time: Option<String>,
    pub place: Option<String>,
    pub description: Option<String>,
    /// A school-wide event on a class's list.
    pub school_wide: bool,
}

#[derive(Serialize)]
pub(crate) struct MonthView {
    pub label: String,
    pub events: Vec<EventView>,
}

#[derive(Serialize)]
pub(crate) struct EventsPage {
    #[serde(flatten)]
    pub common: Common,
    pub class: ClassRef,
    pub months: Vec<MonthView>,
}

/// How many months an events page lists, from the current one.
const MONTHS_SHOWN: u32 = 2;
/// How far ahead boards list events.
const UPCOMING_DAYS: i64 = 30;

impl Inputs<'_> {
    /// Events of a class (with the school's) or of the school alone, by start.
    fn events_of(&self, class: Option<Id>) -> Vec<&Event> {
        let mut events: Vec<&Event> = self.class_events(None).to_vec();
        if class.is_some() {
            events.extend_from_slice(self.class_events(class));
        }
        events.sort_by_key(|e| (e.starts_at, e.id));
        events
    }

    fn event_view(&self, e: &Event) -> EventView {
        let start = e.starts_at;
        let midnight = start.time() == chrono::NaiveTime::MIN;
        let time = (!midnight).then(|| match e.ends_at {
            Some(end) if end.date() == start.date() && end > start => {
                format!("{}–{}", start.format("%H:%M"), end.format("%H:%M"))
            }
            _ => start.format("%H:%M").to_string(),
        });
        EventView {
            title: e.title.clone(),
            date: self.strings.date_short_weekday(start.date()),
            date_iso: start.date().to_string(),
            time,
            place: e.place.clone(),
            description: e.description.clone(),
            school_wide: e.class_id.is_none(),
        }
    }

    /// Events of the coming weeks, for boards.
    pub(crate) fn upcoming_events(&self, class: Option<Id>) -> Vec<EventView> {
        let until = self.today + Duration::days(UPCOMING_DAYS);
        self.events_of(class)
            .into_iter()
            .filter(|e| {
                let end = e.ends_at.unwrap_or(e.starts_at).date();
                end >= self.today && e.starts_at.date() <= until
            })
            .map(|e| self.event_view(e))
            .collect()
    }

    pub(crate) fn events_page(&self, class: &ClassRef) -> EventsPage {
        let events = self.events_of(Some(class.id));
        let mut months = Vec::new();
        let mut first = NaiveDate::from_ymd_opt(self.today.year(), self.today.month(), 1)
            .expect("first of month");
        for _ in 0..MONTHS_SHOWN {
            let next = first + chrono::Months::new(1);
            months.push(MonthView {
                label: self.strings.month_year(first),
                events: events
                    .iter()
                    .filter(|e| e.starts_at.date() >= first && e.starts_at.date() < next)
                    .map(|e| self.event_view(e))
                    .collect(),
            });
            first = next;
        }
        EventsPage {
            common: self.common(),
            class: class.clone(),
            months,
        }
    }

    /// The iCalendar feed of a class (its events and the school's) or of the school.
    pub(crate) fn icalendar(&self, class: Option<&ClassRef>) -> String {
        let events = self.events_of(class.map(|c| c.id));
        let page = match class {
            Some(c) => self.absolute(&c.events_url),
            None => self.absolute("index.html"),
        };
        let items: Vec<CalendarEvent> = events
            .iter()
            .map(|e| CalendarEvent {
                uid: e.uid.clone().unwrap_or_else(|| format!("event-{}", e.id)),
                title: &e.title,
                starts_at: e.starts_at,
                ends_at: e.ends_at,
                place: e.place.as_deref(),
                description: e.description.as_deref(),
                url: Some(page.clone()),
            })
            .collect();
        let name = match class {
            Some(c) => format!("{} · {}", c.name, self.journal.school.short_name),
            None => self.journal.school.short_name.clone(),
        };
        crate::feeds::icalendar(&name, &self.host(), self.config.tz(), &items)
    }
}

#[cfg(test)]
mod tests {
    use crate::journal::{Event, Id};
    use crate::views::Inputs;

    #[test]
    fn a_class_lists_its_events_and_the_schools_only() {
        let (_tmp, site) = crate::demo::test_site(40);
        let loaded = crate::check::load(&site).unwrap();
        let j = &loaded.journal;
        let theme = crate::render::Theme::load(&site).unwrap();
        let renderer = crate::render::Renderer::new(&theme, site.config.language).unwrap();
        let today = j.years[0].starts_on;
        let inputs = Inputs::new(j, &site.config, &loaded.posts, &renderer.strings, today);
        let by_start = |mut events: Vec<&Event>| {
            events.sort_by_key(|e| (e.starts_at, e.id));
            events.into_iter().map(|e| e.id).collect::<Vec<Id>>()
        };
        let school = by_start(j.events.iter().filter(|e| e.class_id.is_none()).collect());
        assert!(!school.is_empty(), "the demo school has events of its own");
        assert_eq!(by_start(inputs.events_of(None)), school);
        let mut classes_with_events = 0;
        for class in &j.classes {
            let own: Vec<&Event> = j
                .events
                .iter()
                .filter(|e| e.class_id.is_none() || e.class_id == Some(class.id))
                .collect();
            classes_with_events += usize::from(own.len() > school.len());
            assert_eq!(
                inputs
                    .events_of(Some(class.id))
                    .iter()
                    .map(|e| e.id)
                    .collect::<Vec<_>>(),
                by_start(own),
                "class {}",
                class.name
            );
            let rows: Vec<Id> = j
                .timetable
                .iter()
                .filter(|t| t.class_id == class.id)
                .map(|t| t.id)
                .collect();
            let indexed: Vec<Id> = inputs
                .class_timetable(class.id)
                .iter()
                .map(|t| t.id)
                .collect();
            assert_eq!(indexed, rows, "class {}", class.name);
        }
        assert!(
            classes_with_events > 1,
            "the demo classes have events of their own"
        );
    }
}
