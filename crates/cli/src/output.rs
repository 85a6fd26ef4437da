//! Printing: one JSON object with `--json`, readable text otherwise.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;
use skill_ledger_domain::{BodyRecord, CredentialRecord, PersonRecord, Registry, Rejection};
use skill_ledger_server::views::{BodyView, CredentialView, PersonView};

/// The language of messages for people (`--lang`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum Lang {
    /// 中文
    Zh,
    /// English
    En,
}

impl Lang {
    /// The default without `--lang`: Chinese when the locale (`LC_ALL`, else `LC_MESSAGES`,
    /// else `LANG`: the first one set and not empty, as POSIX orders them) starts with `zh`,
    /// English otherwise.
    pub fn from_environment(variable: impl Fn(&str) -> Option<String>) -> Lang {
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .into_iter()
            .filter_map(&variable)
            .find(|value| !value.is_empty());
        match locale {
            Some(locale) if locale.to_ascii_lowercase().starts_with("zh") => Lang::Zh,
            _ => Lang::En,
        }
    }
}

/// The language chosen for this process: 0 English, 1 Chinese (set once by `main`).
static LANG: AtomicU8 = AtomicU8::new(0);

pub fn set_lang(lang: Lang) {
    LANG.store(u8::from(lang == Lang::Zh), Ordering::Relaxed);
}

pub fn lang() -> Lang {
    if LANG.load(Ordering::Relaxed) == 1 {
        Lang::Zh
    } else {
        Lang::En
    }
}

/// The one line that says why the ledger refused an event, in the chosen language: the
/// rule's Chinese message (`Rejection::message_zh`, the domain's table) with the particulars,
/// or the English message. The code is in both, for scripts and searches.
pub fn rejection_line(rejection: &Rejection) -> String {
    match lang() {
        Lang::Zh => format!(
            "已拒绝（{}）：{}。详情：{rejection}",
            rejection.code(),
            rejection.message_zh()
        ),
        Lang::En => format!("rejected ({}): {rejection}", rejection.code()),
    }
}

/// The line that says why a recognition was refused against the partner's mirror, in the
/// chosen language.
pub fn recognition_refusal_line(error: &skill_ledger_sync::RecognitionCheckError) -> String {
    match lang() {
        Lang::Zh => format!(
            "互认被拒绝（{}）：{}。详情：{error}",
            error.kind.code(),
            error.kind.message_zh()
        ),
        Lang::En => format!("refused ({}): {error}", error.kind.code()),
    }
}

/// Set once a JSON object has been printed, so `main` does not print a second one.
static PRINTED_JSON: AtomicBool = AtomicBool::new(false);

/// Whether this process already printed its JSON object on stdout.
pub fn json_printed() -> bool {
    PRINTED_JSON.load(Ordering::Relaxed)
}

/// Prints a JSON value on one line and flushes, so a reader sees it at once.
pub fn print_json(value: &Value) {
    PRINTED_JSON.store(true, Ordering::Relaxed);
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{value}");
    let _ = stdout.flush();
}

/// A credential as JSON: the same shape as the HTTP API's (`GET /v1/credentials/{cert_no}`).
pub fn credential_json(
    credential: &CredentialRecord,
    foreign: Option<&skill_ledger_domain::ForeignComparisonBasis>,
    registry: &Registry,
) -> Value {
    serde_json::to_value(CredentialView::new(credential, registry).with_foreign(foreign, registry))
        .unwrap_or(Value::Null)
}

/// A body as JSON: the same shape as the HTTP API's (`GET /v1/bodies/{reg_no}`).
pub fn body_json(body: &BodyRecord) -> Value {
    serde_json::to_value(BodyView::new(body)).unwrap_or(Value::Null)
}

/// A person's state as JSON: the same shape as the HTTP API's (`GET /v1/persons/{subject}`).
pub fn person_json(
    subject: &skill_ledger_domain::SubjectId,
    person: &PersonRecord,
    career: &skill_ledger_domain::CareerRecord,
    registry: &Registry,
) -> Value {
    serde_json::to_value(PersonView::new(subject, person, career, registry)).unwrap_or(Value::Null)
}

/// A benchmark's or command's report: one JSON line with `--json`, indented text otherwise.
pub fn print_report(value: &Value, json: bool) {
    if json {
        print_json(value);
    } else {
        print_human(value);
    }
}

/// A progress bar on stderr: hidden when stderr is not a terminal, and when `hidden` (e.g.
/// with `--json`).
pub fn progress_bar(total: u64, what: &str, hidden: bool) -> ProgressBar {
    let bar = if hidden {
        ProgressBar::hidden()
    } else {
        ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
    };
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// Prints a JSON value as indented text for people.
pub fn print_human(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
    );
}
