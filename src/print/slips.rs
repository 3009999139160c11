//! Code slips: one per holder, with the school, the child, the class, the diary address,
//! the code and a QR code that opens the diary with the code filled in. A pupil's own code
//! says it is the pupil's.

use anyhow::{Result, bail};
use serde::Serialize;

use crate::access::Session;
use crate::access::binding::{Place, Places, label};
use crate::access::codes::{Scope, find_class};
use crate::access::identity::Kind;
use crate::clock::Moment;
use crate::config::Site;
use crate::journal::{Delivery, Journal};
use crate::render::{Renderer, Theme};
use crate::seal;

#[derive(Serialize)]
struct Slip {
    holder: String,
    /// The code is the pupil's own, not a guardian's.
    pupil: bool,
    /// A pupil's code whose guardians (online) have codes of their own.
    parents_too: bool,
    children: Vec<String>,
    class: String,
    code: String,
    url: String,
    qr_svg: String,
}

#[derive(Serialize)]
struct SlipsPage {
    school: String,
    class: String,
    diary_url: String,
    slips: Vec<Slip>,
}

/// Renders the slips of one class's active codes; returns the file name and the HTML.
pub(crate) fn code_slips(
    site: &Site,
    j: &Journal,
    class_name: &str,
) -> Result<(String, String, usize)> {
    let class = find_class(j, class_name)?;
    let today = Moment::now(site.config.tz()).date;
    let Some(session) = Session::open(&site.store_path(), j, today)? else {
        bail!("no codes were issued yet: run `diary codes issue --class {class_name}` first");
    };
    let store = &session.store;
    let places = Places::locate(store, &session.roster);
    let scope = Scope {
        class: Some(class.name.clone()),
        student: None,
    };
    let in_class: Vec<i64> = scope.students(j)?.iter().map(|s| s.id).collect();
    let base = site.config.base_url.trim_end_matches('/');
    let diary_url = format!("{base}/diary/");
    let mut slips = Vec::new();
    for code in store.codes.iter().filter(|c| c.is_active()) {
        // The children the code was last sealed for, as they are in the journal now.
        let children: Vec<String> = code
            .children
            .iter()
            .filter_map(|pid| match places.get(*pid) {
                Place::At(row) => Some(row),
                _ => None,
            })
            .filter(|id| in_class.contains(id))
            .filter_map(|id| j.student(id).map(|s| s.full_name()))
            .collect();
        if children.is_empty() {
            continue;
        }
        let url = format!("{diary_url}#c={}", seal::format_code(&code.code));
        let holder = &store.people[&code.holder];
        let pupil = holder.kind == Kind::Student;
        let parents_too = pupil
            && matches!(places.get(code.holder), Place::At(row) if j
                .guardians_of(row)
                .iter()
                .any(|g| j.guardian(*g).is_some_and(|g| g.delivery != Delivery::Paper)));
        slips.push(Slip {
            pupil,
            parents_too,
            holder: match places.get(code.holder) {
                Place::At(row) => label(j, store.people[&code.holder].kind, row),
                _ => store.people[&code.holder].label.clone(),
            },
            children,
            class: class.name.clone(),
            code: seal::format_code(&code.code),
            qr_svg: qr_svg(&url)?,
            url,
        });
    }
    if slips.is_empty() {
        bail!(
            "class {} has no active codes: run `diary codes issue --class {}`",
            class.name,
            class.name
        );
    }
    slips.sort_by(|a, b| a.children.cmp(&b.children).then(a.holder.cmp(&b.holder)));
    let theme = Theme::load(site)?;
    let renderer = Renderer::new(&theme, site.config.language)?;
    let page = SlipsPage {
        school: j.school.name.clone(),
        class: class.name.clone(),
        diary_url,
        slips,
    };
    let count = page.slips.len();
    let html = renderer.render("print/slips.html", "", &page)?;
    Ok((
        format!("codes-{}.html", crate::text::slug(&class.name)),
        html,
        count,
    ))
}

/// A QR code as an inline SVG.
fn qr_svg(text: &str) -> Result<String> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M)
        .map_err(|e| anyhow::anyhow!("cannot make a QR code: {e}"))?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(160, 160)
        .build())
}
