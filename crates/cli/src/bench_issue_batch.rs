//! `skill-ledger bench issue-batch`: an exam session's results file of N rows issued over
//! HTTP on loopback, end to end as a body runs `issue-batch --node`: reading and checking
//! the file, the pseudonym requests, signing, `POST /v1/events/batch` (durable commits), and
//! the receipt file.
//!
//! The node is created in a temporary directory (one body, 6-18-01-01 up to 高级工) and served
//! in this process on a loopback listener. Its pseudonym service is configured generously
//! (`pseudonym_rate_per_s` 10⁶, `pseudonym_items_max` 1,000; the defaults, 2 a second with a
//! burst of 1,000, would make the run measure the rate limit) and its body limit raised to
//! 16 MiB; the report says so. The results file is written before the clock starts (the
//! body has it already), with distinct holders whose identity numbers pass GB 11643.

use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use clap::Args;
use serde_json::json;
use skill_ledger_domain::{
    Audience, BodyRegistered, Date, EventKind, Level, RegistrationNumber, ScopeItem,
};
use skill_ledger_node::{InitOptions, Node};
use skill_ledger_server::{AppState, ServerConfig};

use crate::batch_file::{check_rows, read_table};
use crate::issue_batch::{run_remote, Mode, Shape};
use crate::remote::NodeClient;
use crate::submit::{write_receipt, Outcome, ReceiptLine};
use crate::CliResult;

#[derive(Args)]
pub struct IssueBatchBenchArgs {
    /// Rows of the results file (distinct holders, one 初级工 each).
    #[arg(long, default_value_t = 100_000)]
    pub rows: usize,
    /// Rows per request.
    #[arg(long, default_value_t = 1_000)]
    pub batch_size: usize,
    /// Requests in flight.
    #[arg(long, default_value_t = 4)]
    pub parallel: usize,
    /// Holders per pseudonym request (the served node allows up to 1,000).
    #[arg(long, default_value_t = 1_000)]
    pub pseudonym_batch: usize,
}

const BODY: &str = "Y000050000001";

/// A valid 居民身份证 number (GB 11643-1999) for holder `n`: area 500101, a birth date from
/// 1980 on, a sequence number, the check character.
fn identity_number(n: usize) -> String {
    let birth = Date::from_days_since_unix_epoch(3_650 + (n / 1_000) as i32).unwrap_or(Date::MAX);
    let body17 = format!(
        "500101{}{:03}",
        birth.to_string().replace('-', ""),
        n % 1_000
    );
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body17
        .bytes()
        .zip(WEIGHTS)
        .map(|(digit, weight)| u32::from(digit - b'0') * weight)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body17}{check}")
}

fn holder_name(n: usize) -> String {
    const SURNAMES: [char; 10] = ['张', '王', '李', '赵', '刘', '陈', '杨', '黄', '周', '吴'];
    const GIVEN: [char; 10] = ['伟', '芳', '娜', '敏', '静', '强', '磊', '军', '洋', '勇'];
    format!(
        "{}{}{}",
        SURNAMES[n % 10],
        GIVEN[(n / 10) % 10],
        GIVEN[(n / 100) % 10]
    )
}

pub fn run(args: IssueBatchBenchArgs, json: bool) -> CliResult {
    if args.rows == 0 || args.rows > 999_999 {
        return Err(anyhow!("--rows must be between 1 and 999999 (one serial range)").into());
    }
    let temporary = tempfile::tempdir().context("creating a temporary directory")?;
    let root = temporary.path().join("ledger");
    let node = Node::init(&root, InitOptions::chongqing().importing_history())?;
    let body: RegistrationNumber = BODY.parse()?;
    let key = ed25519_dalek::SigningKey::from_bytes(&[0x5a; 32]);
    let date = |y, m, d| Date::from_ymd(y, m, d).ok_or_else(|| anyhow!("bad date"));
    node.submit(
        node.sign_as_authority(EventKind::BodyRegistered(BodyRegistered {
            registration_number: body,
            name: "考试批量发证基准评价机构".to_string(),
            public_key: key.verifying_key().to_bytes(),
            valid_from: date(2019, 1, 1)?,
            valid_until: date(2030, 12, 31)?,
            audience: Audience::Public,
            scope: vec![ScopeItem {
                occupation: "6-18-01-01".parse()?,
                level_max: Level::Senior,
            }],
            direct_recognition: false,
            date: date(2019, 1, 1)?,
        })),
    )?;
    while node.warming_up() {
        std::thread::sleep(Duration::from_millis(50));
    }
    let before = node.entry_count();
    let file = temporary.path().join("results.csv");
    let mut text = String::from("cert_no,id_number,name,occupation,level,date,attested\n");
    for n in 0..args.rows {
        text.push_str(&format!(
            "{BODY}205{:06},{},{},6-18-01-01,初级工,2020-06-01,本职业工作满1年\n",
            n + 1,
            identity_number(n),
            holder_name(n)
        ));
    }
    std::fs::write(&file, text).context("writing the results file")?;
    let node = std::sync::Arc::new(node);
    let config = ServerConfig {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        body_bytes_max: 16 * 1024 * 1024,
        request_timeout_ms: 60_000,
        pseudonym_rate_per_s: 1_000_000.0,
        pseudonym_burst: 1_000_000,
        pseudonym_items_max: 1_000,
        ..ServerConfig::default()
    };
    let state = AppState::new(node.clone(), config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(("127.0.0.1", 0)))
        .context("binding a loopback port")?;
    let address = listener.local_addr()?;
    let (stop_server, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.spawn(skill_ledger_server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let receipt_path = temporary.path().join("receipt.jsonl");

    // The clock starts: what `issue-batch --node URL --file results.csv --receipt R` does.
    let started = Instant::now();
    let table = read_table(&file).map_err(|error| anyhow!(error))?;
    let (rows, problems) = check_rows(&table);
    if !problems.is_empty() {
        return Err(anyhow!("the generated file has problems: {}", problems[0]).into());
    }
    let parsed = started.elapsed();
    let client = NodeClient::connect(&format!("http://{address}"))?;
    let shape = Shape {
        batch_size: args.batch_size,
        pseudonym_batch: args.pseudonym_batch,
        parallel: args.parallel,
    };
    let bar = crate::output::progress_bar(rows.len() as u64, "issuing", json);
    let decided = run_remote(&client, &key, body, &rows, shape, Mode::Submit, &bar);
    bar.finish_and_clear();
    let submitted = started.elapsed();
    if let Some(failure) = decided.failure {
        return Err(failure);
    }
    let receipt: Vec<ReceiptLine> = rows
        .iter()
        .zip(&decided.outcomes)
        .map(|(row, outcome)| ReceiptLine {
            line: row.line,
            cert_no: Some(row.certificate_number.to_string()),
            event_id: Some(
                crate::batch_file::event_id(client.origin(), &row.certificate_number).to_hex(),
            ),
            outcome: outcome.clone(),
        })
        .collect();
    write_receipt(&receipt_path, &receipt)?;
    let seconds = started.elapsed().as_secs_f64();

    let accepted = decided
        .outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Outcome::Accepted(_)))
        .count();
    let _ = runtime.block_on(async {
        let _ = stop_server.send(());
        server.await
    });
    drop(runtime);
    let entries = node.entry_count() - before;
    let rows_per_s = args.rows as f64 / seconds;
    let value = json!({
        "benchmark": "issue-batch",
        "rows": args.rows,
        "accepted": accepted,
        "entries_added": entries,
        "seconds": seconds,
        "rows_per_s": rows_per_s,
        "target_rows_per_s": 20_000,
        "target_met": rows_per_s >= 20_000.0,
        "phases_s": {
            "read_and_check": parsed.as_secs_f64(),
            "pseudonyms_sign_submit": (submitted - parsed).as_secs_f64(),
            "receipt": seconds - submitted.as_secs_f64(),
        },
        "batch_size": args.batch_size,
        "parallel": args.parallel,
        "pseudonym_batch": args.pseudonym_batch,
        "served_node": "in this process on loopback; pseudonym_rate_per_s 1e6, \
            pseudonym_burst 1e6, pseudonym_items_max 1000, body_bytes_max 16 MiB",
        "peak_rss_mb": crate::bench::peak_rss_mb(),
        "cpus": std::thread::available_parallelism().map_or(1, |n| n.get()),
    });
    match std::sync::Arc::try_unwrap(node) {
        Ok(node) => node.close()?,
        Err(_) => return Err(anyhow!("the node was still in use after the benchmark").into()),
    }
    if accepted != args.rows {
        return Err(anyhow!("{accepted} of {} rows accepted", args.rows).into());
    }
    crate::output::print_report(&value, json);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_identity_numbers_pass_gb_11643_and_differ() {
        let numbers: Vec<String> = [0, 1, 999, 1_000, 99_999].map(identity_number).to_vec();
        for number in &numbers {
            skill_ledger_domain::check_document_number(
                skill_ledger_domain::IdDocumentType::ResidentIdCard,
                number,
            )
            .unwrap_or_else(|error| panic!("{number}: {error}"));
        }
        let mut unique = numbers.clone();
        unique.dedup();
        assert_eq!(unique.len(), numbers.len());
    }
}
