//! `skill-ledger demo`: realistic synthetic ledgers for the two partners, Chongqing (`50`)
//! and Sichuan (`51`).
//!
//! Bodies of both kinds, thousands of workers with careers that climb the ladder by
//! evaluation (attested entry, then one level at a time after the policy's years) and by
//! direct recognition, a suspended body, and some revocations. All data is synthetic and
//! generated from a seed, so two runs with the same seed make the same people.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{anyhow, Context};
use clap::Args;
use ed25519_dalek::SigningKey;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use skill_ledger_domain::{
    Audience, BodyRegistered, BodyStatusChange, CertificateNumber, CredentialRevoked, Date,
    EvaluationBasis, Event, EventId, EventKind, IdDocumentType, Level, LevelCertified,
    OccupationCode, Province, RegistrationNumber, Route, ScopeItem, SignedEvent, Signer,
};
use skill_ledger_log::signer_key_text;
use skill_ledger_node::{InitOptions, Node, PendingReceipt, SubmitError};

use crate::output::print_json;
use crate::CliResult;

#[derive(Args)]
pub struct DemoArgs {
    /// Where to create the demo (the Chongqing node goes in DIR/50, Sichuan in DIR/51).
    #[arg(long, short = 'd')]
    pub dir: PathBuf,
    /// Only generate the data and exit (do not serve).
    #[arg(long)]
    pub no_serve: bool,
    /// Number of workers.
    #[arg(long, default_value = "3000")]
    pub workers: u32,
    /// Seed of the synthetic data.
    #[arg(long, default_value = "2025")]
    pub seed: u64,
    /// Address the nodes listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    /// Chongqing listens on this port and Sichuan on the next; 0 picks free ports.
    #[arg(long, default_value = "8050")]
    pub port_base: u16,
}

struct DemoBody {
    number: RegistrationNumber,
    name: &'static str,
    key: SigningKey,
    scope: Vec<(&'static str, Level)>,
    direct: bool,
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "罗", "高", "谭", "冉", "向", "秦", "邓", "蒋", "唐", "彭",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超",
    "秀英", "华", "平", "刚", "桂英", "建华", "文", "丽", "志强", "小红", "德明", "春梅", "国庆",
    "海燕", "永红", "晓东", "建军", "玉兰", "成林", "宇航",
];

/// (registration number, name, scope as (occupation, highest level), direct recognition).
type BodySpec = (&'static str, &'static str, Vec<(&'static str, Level)>, bool);

/// One partner authority of the demo: its ledger, its bodies and where its people live.
struct Authority {
    /// The node's directory name under the demo directory (the province code).
    key: &'static str,
    province: Province,
    name: &'static str,
    label: &'static str,
    /// Resident identity-card district prefixes (GB/T 2260) of the province.
    districts: &'static [&'static str],
    bodies: Vec<BodySpec>,
}

fn chongqing() -> Authority {
    use Level::*;
    Authority {
        key: "50",
        province: Province::CHONGQING,
        name: "重庆市人力资源和社会保障局",
        label: "Chongqing",
        districts: &[
            "500101", "500103", "500105", "500106", "500112", "500113", "500116", "500118",
        ],
        bodies: vec![
            (
                "Y000050000101",
                "重庆示例汽车制造有限公司（演示）",
                vec![
                    ("4-12-01-01", SeniorTechnician),
                    ("6-18-01-01", SeniorTechnician),
                    ("6-18-02-04", Technician),
                ],
                true,
            ),
            (
                "Y000050000102",
                "重庆示例电力设备有限公司（演示）",
                vec![("6-31-01-03", SeniorTechnician), ("6-31-01-10", Technician)],
                true,
            ),
            (
                "Y000050000103",
                "重庆示例建工集团（演示）",
                vec![("6-29-01-03", Technician), ("6-18-02-04", Senior)],
                false,
            ),
            (
                "Y000050000104",
                "重庆示例装备制造有限公司（演示）",
                vec![
                    ("6-18-01-02", SeniorTechnician),
                    ("6-20-03-00", SeniorTechnician),
                ],
                true,
            ),
            (
                "S000050000201",
                "重庆示例职业技能鉴定中心（演示）",
                vec![
                    ("4-03-02-01", SeniorTechnician),
                    ("4-10-01-06", Technician),
                    ("4-04-05-05", Technician),
                ],
                false,
            ),
            (
                "S000050000202",
                "重庆示例技师学院评价中心（演示）",
                vec![
                    ("6-18-01-01", Technician),
                    ("6-31-01-03", Technician),
                    ("4-12-01-01", Technician),
                ],
                false,
            ),
            (
                "S000050000203",
                "重庆示例社会培训评价组织（演示）",
                vec![
                    ("4-03-02-01", Senior),
                    ("6-29-01-03", Senior),
                    ("4-10-01-06", Senior),
                ],
                false,
            ),
        ],
    }
}

fn sichuan() -> Authority {
    use Level::*;
    Authority {
        key: "51",
        province: Province::SICHUAN,
        name: "四川省人力资源和社会保障厅",
        label: "Sichuan",
        districts: &[
            "510104", "510105", "510106", "510107", "510108", "510112", "510701", "511302",
        ],
        bodies: vec![
            (
                "Y000051000101",
                "四川示例重型机械有限公司（演示）",
                vec![
                    ("6-18-01-02", SeniorTechnician),
                    ("6-20-03-00", SeniorTechnician),
                    ("6-18-01-01", Technician),
                ],
                true,
            ),
            (
                "Y000051000102",
                "四川示例电网检修有限公司（演示）",
                vec![("6-31-01-03", SeniorTechnician), ("6-31-01-10", Technician)],
                true,
            ),
            (
                "Y000051000103",
                "四川示例航空装备有限公司（演示）",
                vec![("4-12-01-01", SeniorTechnician), ("6-18-02-04", Technician)],
                false,
            ),
            (
                "S000051000201",
                "四川示例职业技能鉴定指导中心（演示）",
                vec![
                    ("4-03-02-01", SeniorTechnician),
                    ("4-10-01-06", Technician),
                    ("6-29-01-03", Technician),
                ],
                false,
            ),
            (
                "S000051000202",
                "四川示例技师学院评价中心（演示）",
                vec![
                    ("4-04-05-05", Technician),
                    ("6-18-01-01", Technician),
                    ("4-03-02-01", Senior),
                ],
                false,
            ),
        ],
    }
}

/// A synthetic person: name and resident identity-card number.
#[derive(Clone)]
struct Worker {
    name: String,
    id_number: String,
}

fn workers(rng: &mut StdRng, count: usize, districts: &[&str]) -> Vec<Worker> {
    (0..count)
        .map(|_| Worker {
            name: format!(
                "{}{}",
                SURNAMES[rng.gen_range(0..SURNAMES.len())],
                GIVEN[rng.gen_range(0..GIVEN.len())]
            ),
            id_number: identity_number(rng, districts),
        })
        .collect()
}

fn identity_number(rng: &mut StdRng, districts: &[&str]) -> String {
    let district = districts[rng.gen_range(0..districts.len())];
    let year = rng.gen_range(1965..=2003);
    let month = rng.gen_range(1..=12);
    let day = rng.gen_range(1..=28);
    let sequence = rng.gen_range(0..1000);
    let body = format!("{district}{year:04}{month:02}{day:02}{sequence:03}");
    // GB 11643 check character (ISO 7064 MOD 11-2).
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(digit, weight)| u32::from(digit - b'0') * weight)
        .sum();
    format!("{body}{}", char::from(CHECK[(sum % 11) as usize]))
}

fn date(year: i32, rng: &mut StdRng) -> Date {
    let month = rng.gen_range(3..=11);
    let day = rng.gen_range(1..=28);
    Date::from_ymd(year, month, day).unwrap_or_else(|| unreachable!("valid demo date"))
}

/// One planned certification, sorted by date before submission.
struct Planned {
    issued: Date,
    body: usize,
    worker: usize,
    occupation: OccupationCode,
    level: Level,
    route: Route,
}

/// The summary file a demo leaves next to its nodes, so a second run can reuse the data.
const SUMMARY_FILE: &str = "demo.json";

/// The version of what a demo directory holds, in its summary (`demo_format`); a directory
/// of another version is not reused. 2: the credential kinds of issue 19.
const DEMO_FORMAT: u64 = 2;

/// How often the served demo nodes pull each other's new entries and ask for cosignatures.
const DEMO_SYNC_INTERVAL_S: u64 = 5;

/// Every tenth Chongqing worker also holds a credential on the Sichuan ledger (people move
/// between the two; the shared pseudonym key gives them the same subject on both).
const MOVED_EVERY: usize = 10;

/// Credentials of each ledger its partner recognises (互认) in the demo.
const RECOGNISED_PER_LEDGER: usize = 4;

pub fn run(args: DemoArgs, json: bool) -> CliResult {
    let summary_path = args.dir.join(SUMMARY_FILE);
    let authorities = [chongqing(), sichuan()];
    let existing: Vec<PathBuf> = authorities
        .iter()
        .map(|authority| args.dir.join(authority.key))
        .filter(|dir| dir.exists())
        .collect();
    if !existing.is_empty() {
        // Re-running the demo reuses what an earlier run made (names exist only there).
        let text = std::fs::read_to_string(&summary_path).with_context(|| {
            format!(
                "{} exists but holds no finished demo ({} is missing): remove the directory or choose another --dir",
                existing[0].display(),
                summary_path.display()
            )
        })?;
        let summary: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a demo summary", summary_path.display()))?;
        if summary["demo_format"].as_u64() != Some(DEMO_FORMAT) {
            return Err(anyhow!(
                "{} was made by an earlier version of the demo (format {}, this one makes {DEMO_FORMAT}: \
                 every credential kind, and mirrors of a newer layout): remove {} for a fresh demo",
                args.dir.display(),
                summary["demo_format"].as_u64().unwrap_or(1),
                args.dir.display()
            )
            .into());
        }
        if args.no_serve {
            for authority in &authorities {
                // Opening checks each ledger against its checkpoint before anything is shown.
                let dir = args.dir.join(authority.key);
                crate::admin::open(&crate::DirArg { dir })?.close()?;
            }
            report(&summary, json, true);
            return Ok(());
        }
        return serve(&args, &authorities, summary, json, true);
    }
    let mut rng = StdRng::seed_from_u64(args.seed);
    // The partners share one pseudonym key (configured out of band in a real deployment).
    let pseudonym_key: [u8; 32] = rng.gen();
    let count = args.workers as usize;
    let chongqing_workers = workers(&mut rng, count, authorities[0].districts);
    let mut sichuan_workers: Vec<Worker> = chongqing_workers
        .iter()
        .step_by(MOVED_EVERY)
        .cloned()
        .collect();
    let born_in_sichuan = count.saturating_sub(sichuan_workers.len());
    sichuan_workers.extend(workers(&mut rng, born_in_sichuan, authorities[1].districts));

    let mut nodes = serde_json::Map::new();
    let mut valid_samples = Vec::new();
    let mut revoked_samples = Vec::new();
    let mut issuer_suspended_samples = Vec::new();
    // 互认: a few of each ledger's valid credentials, for the partner to recognise.
    let mut recognisable: Vec<Vec<CertificateNumber>> = Vec::new();
    // Sample persons for the portal's 个人查询, and each ledger's holders by certificate (to
    // name the holders of the credentials the partner recognises).
    let mut person_samples = Vec::new();
    // The other credential kinds (职业资格, 专项职业能力, 境外比照), by kind.
    let mut kind_samples = Vec::new();
    let mut holders: Vec<BTreeMap<CertificateNumber, &Worker>> = Vec::new();
    for (authority, people) in authorities
        .iter()
        .zip([&chongqing_workers, &sichuan_workers])
    {
        let dir = args.dir.join(authority.key);
        let made = build_ledger(&dir, authority, people, pseudonym_key, &mut rng, json)?;
        // The VC issuer, under the address the node will listen on (a served demo with
        // other ports logs its own address again when it starts).
        let port = match args.port_base {
            0 => 8050,
            base => base,
        }
        .saturating_add(nodes.len() as u16);
        set_up_vc(
            &dir,
            &format!("http://{}", std::net::SocketAddr::new(args.host, port)),
        )?;
        let sample = |list: &[(CertificateNumber, usize)], count: usize| {
            list.iter()
                .take(count)
                .map(|(number, worker)| {
                    json!({
                        "cert_no": number.as_str(),
                        "name": people[*worker].name,
                        "node": authority.key,
                    })
                })
                .collect::<Vec<_>>()
        };
        // The valid samples read as plainly valid: none issued inside the retroactive
        // suspension. Only among the first five: from the sixth on, some are recognised by the
        // partner, and the demo revokes one of those.
        let plainly_valid: Vec<(CertificateNumber, usize)> = made
            .valid
            .iter()
            .take(5)
            .filter(|item| !made.issuer_suspended.contains(item))
            .copied()
            .collect();
        valid_samples.extend(sample(&plainly_valid, 5));
        issuer_suspended_samples.extend(sample(&made.issuer_suspended, 2));
        recognisable.push(
            made.valid
                .iter()
                .skip(5)
                .step_by(7)
                .take(RECOGNISED_PER_LEDGER)
                .map(|(number, _)| *number)
                .collect(),
        );
        revoked_samples.extend(sample(&made.revoked, 3));
        kind_samples.extend(made.kinds.iter().map(|(kind, number, worker)| {
            json!({"kind": kind, "cert_no": number.as_str(), "name": worker.name,
                   "id_number": worker.id_number, "node": authority.key})
        }));
        person_samples.extend(made.persons.iter().map(|(kind, worker)| {
            json!({"kind": kind, "name": worker.name, "id_number": worker.id_number,
                   "node": authority.key})
        }));
        holders.push(
            made.valid
                .iter()
                .map(|(number, worker)| (*number, &people[*worker]))
                .collect(),
        );
        nodes.insert(
            authority.key.to_string(),
            json!({
                "dir": dir,
                "url": serde_json::Value::Null,
                "origin": made.origin,
                "label": authority.label,
                "entries": made.entries,
                "bodies": made.bodies,
                "workers": people.len(),
                "credentials": made.credentials,
                "revoked": made.revoked.len(),
                "rejected_by_rule": made.rejected_codes,
                "route_events": made.route_events,
                "stats": made.stats,
            }),
        );
    }
    // Chongqing recognises Sichuan's credentials and the other way round.
    let federation = crate::demo_federation::configure_partners(
        &args.dir.join("50"),
        &args.dir.join("51"),
        [&recognisable[1], &recognisable[0]],
    )?;
    // The recognitions (and Sichuan's revocation of a recognised credential) added entries.
    for node in nodes.values_mut() {
        let origin = node["origin"].as_str().unwrap_or_default().to_string();
        if let Some(entries) = federation[&origin].get("entries") {
            node["entries"] = entries.clone();
        }
        let revoked_here = federation
            .as_object()
            .into_iter()
            .flat_map(|sides| sides.values())
            .filter(|side| side["partner"] == origin)
            .filter_map(|side| side["recognitions"]["withdrawn_after_origin_revoked"].as_array())
            .map(Vec::len)
            .sum::<usize>();
        if revoked_here > 0 {
            let revoked = node["revoked"].as_u64().unwrap_or(0) + revoked_here as u64;
            node["revoked"] = json!(revoked);
        }
    }
    // The holders of partner credentials Chongqing recognised: one withdrawn (Sichuan revoked
    // it), the others standing.
    let chongqing_origin = nodes["50"]["origin"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let recognitions = &federation[&chongqing_origin]["recognitions"];
    let withdrawn = recognitions["withdrawn_after_origin_revoked"].clone();
    for (number, worker) in recognitions["recognised"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|number| number.as_str()?.parse::<CertificateNumber>().ok())
        .filter_map(|number| Some((number, *holders.get(1)?.get(&number)?)))
        .take(2)
    {
        let is_withdrawn = withdrawn
            .as_array()
            .is_some_and(|list| list.iter().any(|item| item == number.as_str()));
        person_samples.push(json!({
            "kind": if is_withdrawn { "recognition_withdrawn" } else { "recognised" },
            "name": worker.name, "id_number": worker.id_number, "node": "50",
            "cert_no": number.as_str(),
        }));
    }
    let summary = json!({
        "nodes": nodes,
        "samples": {
            "valid": valid_samples,
            "revoked": revoked_samples,
            "issuer_suspended": issuer_suspended_samples,
            // Synthetic workers for the portal's 个人查询 (identity number and name).
            "persons": person_samples,
            // 职业资格证书, 专项职业能力证书 (one revoked), a foreign comparison.
            "kinds": kind_samples,
        },
        "demo_format": DEMO_FORMAT,
        "workers_on_both_ledgers": chongqing_workers.len().div_ceil(MOVED_EVERY),
        "federation": federation,
    });
    std::fs::write(&summary_path, format!("{summary}\n"))
        .with_context(|| format!("writing {}", summary_path.display()))?;
    if args.no_serve {
        report(&summary, json, false);
        return Ok(());
    }
    serve(&args, &authorities, summary, json, false)
}

/// Serves both ledgers (API, log tiles, portal) until interrupted, each on its own port,
/// and prints the summary with their addresses once both listen.
fn serve(
    args: &DemoArgs,
    authorities: &[Authority],
    mut summary: serde_json::Value,
    json: bool,
    reused: bool,
) -> CliResult {
    let mut nodes = Vec::new();
    for authority in authorities {
        // Opening checks each ledger against its checkpoint before anything is served.
        let node = crate::admin::open(&crate::DirArg {
            dir: args.dir.join(authority.key),
        })?;
        nodes.push((authority.key, std::sync::Arc::new(node)));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("http")
        .build()
        .context("starting the HTTP runtime")?;
    let served = runtime.block_on(async {
        let mut bound = Vec::new();
        for (offset, (key, _)) in nodes.iter().enumerate() {
            let port = if args.port_base == 0 {
                0
            } else {
                args.port_base.saturating_add(offset as u16)
            };
            let address = std::net::SocketAddr::new(args.host, port);
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| {
                    format!("listening on {address} (choose others with --port-base)")
                })?;
            let local = listener.local_addr()?;
            summary["nodes"][*key]["url"] = json!(format!("http://{local}"));
            // VCs name the address served (a new VcIssuerKeySet when it moved). A durable
            // submission waits for its answer: on a thread of its own, off the runtime.
            let node = &nodes[offset].1;
            let base = format!("http://{local}");
            std::thread::scope(|scope| scope.spawn(|| node.vc_setup(&base, false)).join())
                .map_err(|_| anyhow!("setting up the VC issuer panicked"))??;
            bound.push((listener, local));
        }
        let mut listeners = Vec::new();
        let mut federation_tasks = Vec::new();
        for (index, ((listener, local), (_, node))) in bound.into_iter().zip(&nodes).enumerate() {
            // Each node mirrors and witnesses the other over HTTP while they run.
            let (partner_key, partner_node) = &nodes[1 - index];
            let partner_address = summary["nodes"][*partner_key]["url"]
                .as_str()
                .and_then(|url| url.strip_prefix("http://"))
                .and_then(|address| address.parse().ok())
                .ok_or_else(|| anyhow!("the partner's address is not known"))?;
            let federation = crate::demo_federation::federation_for(
                node,
                partner_node.origin(),
                partner_address,
            )?;
            let config = skill_ledger_server::ServerConfig {
                listen: local,
                sync_interval_s: DEMO_SYNC_INTERVAL_S,
                ..Default::default()
            };
            let state = skill_ledger_server::AppState::new(node.clone(), config)
                .with_federation(federation);
            federation_tasks.push(skill_ledger_server::federation::start(&state));
            listeners.push((listener, state));
        }
        report(&summary, json, reused);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        for (listener, state) in listeners {
            let mut stopped = stopped.clone();
            tasks.push(tokio::spawn(skill_ledger_server::serve(
                listener,
                state,
                async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                },
            )));
        }
        crate::serve::shutdown_signal().await;
        let _ = stop.send(true);
        for task in tasks {
            task.await
                .map_err(|error| anyhow!("a demo server failed: {error}"))?
                .context("serving HTTP")?;
        }
        for federation in federation_tasks {
            federation.shutdown().await;
        }
        Ok::<(), anyhow::Error>(())
    });
    drop(runtime);
    served?;
    for (key, node) in nodes {
        let node = std::sync::Arc::try_unwrap(node)
            .map_err(|_| anyhow!("the {key} node was still in use at shutdown"))?;
        node.close()?;
    }
    Ok(())
}

/// Sets `[vc] base_url` in the ledger's ledger.toml and logs the VC issuer key under it.
fn set_up_vc(dir: &std::path::Path, base_url: &str) -> Result<(), anyhow::Error> {
    let config_path = skill_ledger_node::LedgerPaths::new(dir).config();
    let mut config = skill_ledger_node::LedgerConfig::load(&config_path)?;
    config.vc.base_url = Some(base_url.to_string());
    std::fs::write(&config_path, config.to_toml())
        .with_context(|| format!("cannot write {}", config_path.display()))?;
    let (node, _) = Node::open(dir)?;
    node.vc_setup(base_url, false)?;
    node.close()?;
    Ok(())
}

/// What one demo ledger ended up holding.
struct MadeLedger {
    origin: String,
    entries: u64,
    credentials: usize,
    /// Valid credentials, newest first, with the worker's position.
    valid: Vec<(CertificateNumber, usize)>,
    /// Valid credentials issued inside the suspension logged after them (the portal warns).
    issuer_suspended: Vec<(CertificateNumber, usize)>,
    revoked: Vec<(CertificateNumber, usize)>,
    rejected_codes: BTreeMap<String, u64>,
    stats: serde_json::Value,
    /// Events of the routes beyond evaluation and direct recognition.
    route_events: u64,
    /// Sample persons for the portal's 个人查询 (kind, worker): synthetic, like everything here.
    persons: Vec<(&'static str, Worker)>,
    /// Bodies registered.
    bodies: usize,
    /// The other credential kinds (职业资格, 专项职业能力, 境外比照): (kind, number, worker).
    kinds: Vec<(&'static str, CertificateNumber, Worker)>,
}

/// Creates one authority's ledger in `dir` and fills it with its bodies and its workers'
/// careers.
fn build_ledger(
    dir: &std::path::Path,
    authority: &Authority,
    workers: &[Worker],
    pseudonym_key: [u8; 32],
    rng: &mut StdRng,
    json: bool,
) -> Result<MadeLedger, anyhow::Error> {
    let mut options =
        InitOptions::for_province(authority.province, authority.name).importing_history();
    options.date = Date::from_ymd(2019, 1, 1).unwrap_or_else(|| unreachable!("valid date"));
    options.pseudonym_key = Some(pseudonym_key);
    let node = Node::init(dir, options)
        .with_context(|| format!("creating the demo in {}", dir.display()))?;
    let keys_dir = dir.join("keys");
    let bodies: Vec<DemoBody> = authority
        .bodies
        .iter()
        .map(|(number, name, scope, direct)| DemoBody {
            number: number
                .parse()
                .unwrap_or_else(|_| unreachable!("valid demo number")),
            name,
            key: SigningKey::from_bytes(&rng.gen()),
            scope: scope.clone(),
            direct: *direct,
        })
        .collect();
    let register_date = Date::from_ymd(2019, 3, 1).unwrap_or_else(|| unreachable!("date"));
    let until = Date::from_ymd(2029, 12, 31).unwrap_or_else(|| unreachable!("date"));
    let mut pending = Vec::new();
    for body in &bodies {
        std::fs::write(
            keys_dir.join(format!("body-{}.key", body.number)),
            format!("{}\n", signer_key_text(body.number.as_str(), &body.key)),
        )
        .context("writing a demo body key")?;
        let scope = body
            .scope
            .iter()
            .map(|(code, level)| ScopeItem {
                occupation: code.parse().unwrap_or_else(|_| unreachable!("valid code")),
                level_max: *level,
            })
            .collect();
        let audience = if body.number.kind() == skill_ledger_domain::BodyKind::Enterprise {
            Audience::OwnStaff
        } else {
            Audience::Public
        };
        pending.push(
            node.submit_pending(node.sign_as_authority(EventKind::BodyRegistered(
                BodyRegistered {
                    registration_number: body.number,
                    name: body.name.to_string(),
                    public_key: body.key.verifying_key().to_bytes(),
                    valid_from: register_date,
                    valid_until: until,
                    audience,
                    scope,
                    direct_recognition: body.direct,
                    date: register_date,
                },
            )))?,
        );
    }
    wait_all(pending)?;

    let plans = plan_careers(&bodies, workers.len(), rng);
    let origin = node.origin().to_string();
    let pseudonyms = node.pseudonym_key().clone();
    let mut serials: BTreeMap<(usize, i32), u32> = BTreeMap::new();
    let mut issued_certs: Vec<(CertificateNumber, usize)> = Vec::new();
    let mut pending = Vec::new();
    let bar = crate::output::progress_bar(plans.len() as u64, "certifying", json);
    for plan in &plans {
        let body = &bodies[plan.body];
        // Serials run within the body and year (positions 17-22).
        let serial = serials.entry((plan.body, plan.issued.year())).or_insert(0);
        *serial += 1;
        let number =
            CertificateNumber::compose(body.number, plan.issued.year(), plan.level, *serial)
                .ok_or_else(|| anyhow!("demo certificate number out of range"))?;
        let worker = &workers[plan.worker];
        let signed = SignedEvent::sign(
            &origin,
            Signer::Body(body.number),
            &body.key,
            Event {
                id: EventId(rng.gen()),
                kind: EventKind::LevelCertified(LevelCertified {
                    certificate_number: number,
                    subject: pseudonyms.subject(IdDocumentType::ResidentIdCard, &worker.id_number),
                    name_commitment: pseudonyms.commit_name(number.as_str(), &worker.name),
                    occupation: plan.occupation,
                    work_type: None,
                    level: plan.level,
                    issued: plan.issued,
                    route: plan.route.clone(),
                }),
            },
        );
        pending.push(node.submit_pending(signed)?);
        issued_certs.push((number, plan.worker));
        bar.inc(1);
    }
    let outcomes = wait_outcomes(pending);
    bar.finish_and_clear();
    let mut accepted: Vec<(CertificateNumber, usize)> = Vec::new();
    let mut rejected_codes: BTreeMap<String, u64> = BTreeMap::new();
    for ((number, worker), outcome) in issued_certs.iter().zip(outcomes) {
        match outcome {
            Ok(_) => accepted.push((*number, *worker)),
            Err(SubmitError::Rejected(rejection)) => {
                *rejected_codes
                    .entry(rejection.code().to_string())
                    .or_insert(0) += 1
            }
            Err(error) => return Err(anyhow!(error)),
        }
    }

    // Misconduct: about 1 % revoked, some by the issuer, some by the authority.
    let mut revoked: Vec<(CertificateNumber, usize)> = Vec::new();
    let mut pending = Vec::new();
    for (position, (number, worker)) in accepted.iter().enumerate() {
        if position % 97 != 13 {
            continue;
        }
        let issued_year = 2000 + i32::from(number.year_two_digits());
        let effective = Date::from_ymd(issued_year.max(2024) + 1, 1, 15)
            .unwrap_or_else(|| unreachable!("date"));
        let kind = EventKind::CredentialRevoked(CredentialRevoked {
            certificate_number: *number,
            effective,
            reason: if position % 2 == 0 {
                "考试作弊，取消考试成绩和证书"
            } else {
                "申报材料弄虚作假"
            }
            .to_string(),
        });
        let signed = if position % 2 == 0 {
            node.sign_as_authority(kind)
        } else {
            let body = bodies
                .iter()
                .find(|body| body.number == number.registration_number())
                .ok_or_else(|| anyhow!("demo body missing"))?;
            SignedEvent::sign(
                &origin,
                Signer::Body(body.number),
                &body.key,
                Event {
                    id: EventId(rng.gen()),
                    kind,
                },
            )
        };
        pending.push(node.submit_pending(signed)?);
        revoked.push((*number, *worker));
    }
    wait_all(pending)?;

    let (route_events, post_holder) = other_routes(&node, &bodies, authority.districts, rng)?;
    // Its own generator: the main one's sequence (and so every other ledger's data) stays
    // what it was before the kinds were added.
    let kinds = if authority.province == Province::CHONGQING {
        credential_kinds(&node, &keys_dir, authority.districts)?
    } else {
        Vec::new()
    };

    // A body suspended after an inspection (以案示警): what it issued before stays valid.
    let suspended = bodies[bodies.len() - 1].number;
    node.submit(
        node.sign_as_authority(EventKind::BodySuspended(BodyStatusChange {
            registration_number: suspended,
            effective: Date::from_ymd(2025, 6, 1).unwrap_or_else(|| unreachable!("date")),
            reason: "评价质量督导检查发现考务管理不规范，暂停评价活动整改".to_string(),
        })),
    )?;

    let revoked_set: std::collections::BTreeSet<CertificateNumber> =
        revoked.iter().map(|(number, _)| *number).collect();
    let valid: Vec<(CertificateNumber, usize)> = accepted
        .iter()
        .filter(|(number, _)| !revoked_set.contains(number))
        .rev()
        .copied()
        .collect();
    // The suspension above reaches back: what the body issued from its date was accepted
    // before it was logged, and the portal shows those with a warning.
    let registry = node.registry();
    let mut issuer_suspended = Vec::new();
    if let Some(body) = registry.bodies.get(&suspended) {
        for (number, worker) in valid
            .iter()
            .filter(|(number, _)| number.registration_number() == suspended)
        {
            if let Some(record) = node.credential(number)? {
                if record.retroactive_body_status(body).is_some() {
                    issuer_suspended.push((*number, *worker));
                }
            }
        }
    }
    let made = MadeLedger {
        origin,
        entries: node.entry_count(),
        credentials: accepted.len(),
        valid,
        issuer_suspended,
        revoked,
        rejected_codes,
        stats: skill_ledger_node::stats_document(&node.stats()?),
        route_events,
        persons: sample_persons(&accepted, &revoked_set, workers, post_holder),
        bodies: registry.bodies.len(),
        kinds,
    };
    node.close()?;
    Ok(made)
}

/// The credential kinds beyond the skill level (多元评价), issued by a body of their own:
/// two 焊工 职业资格证书 (初级, then 中级 four years on), three 专项职业能力证书 (重庆小面制作
/// twice, one later revoked; 川菜烹饪 once) and a German IHK certificate compared with 装配钳工
/// 高级工 by the policy's catalogue. Returns (kind, number, worker) of each.
fn credential_kinds(
    node: &Node,
    keys_dir: &std::path::Path,
    districts: &[&str],
) -> Result<Vec<(&'static str, CertificateNumber, Worker)>, anyhow::Error> {
    use skill_ledger_domain::{ForeignComparisonBasis, SpecialAbilityCertified};
    let mut rng = StdRng::seed_from_u64(19);
    let number: skill_ledger_domain::RegistrationNumber = "S000050000204"
        .parse()
        .unwrap_or_else(|_| unreachable!("valid demo number"));
    let key = SigningKey::from_bytes(&rng.gen());
    std::fs::write(
        keys_dir.join(format!("body-{number}.key")),
        format!("{}\n", signer_key_text(number.as_str(), &key)),
    )
    .context("writing a demo body key")?;
    let scope = [
        ("6-18-02-04", Level::SeniorTechnician),
        ("6-20-03-00", Level::Technician),
        ("4-03-02-01", Level::Senior),
    ]
    .into_iter()
    .map(|(code, level_max)| ScopeItem {
        occupation: code.parse().unwrap_or_else(|_| unreachable!("valid code")),
        level_max,
    })
    .collect();
    let origin = node.origin().to_string();
    let refused = |error| anyhow!("demo credential-kind event refused: {error}");
    node.submit(
        node.sign_as_authority(EventKind::BodyRegistered(BodyRegistered {
            registration_number: number,
            name: "重庆示例焊接与餐饮技能鉴定中心（演示）".to_string(),
            public_key: key.verifying_key().to_bytes(),
            valid_from: ymd(2019, 3, 1),
            valid_until: ymd(2029, 12, 31),
            audience: Audience::Public,
            scope,
            direct_recognition: false,
            date: ymd(2019, 3, 1),
        })),
    )
    .map_err(refused)?;
    let people = workers(&mut rng, 5, districts);
    let pseudonyms = node.pseudonym_key().clone();
    let subject =
        |worker: &Worker| pseudonyms.subject(IdDocumentType::ResidentIdCard, &worker.id_number);
    let sign = |id: EventId, kind: EventKind| {
        SignedEvent::sign(&origin, Signer::Body(number), &key, Event { id, kind })
    };
    let mut made = Vec::new();
    let mut serial = 0u32;
    let mut next_serial = || {
        serial += 1;
        serial
    };
    // 职业资格证书 (Q series): 焊工 初级 in 2020, 中级 in 2024.
    let welder: OccupationCode = "6-18-02-04"
        .parse()
        .unwrap_or_else(|_| unreachable!("valid code"));
    for (level, issued, route) in [
        (
            Level::Junior,
            ymd(2020, 4, 1),
            Route::Evaluation(EvaluationBasis::Attested {
                statement: "中等职业学校焊接专业毕业，本职业工作满1年".to_string(),
            }),
        ),
        (
            Level::Intermediate,
            ymd(2024, 6, 1),
            Route::Evaluation(EvaluationBasis::PriorLevel),
        ),
    ] {
        let certificate =
            CertificateNumber::compose_qualification(number, issued.year(), level, next_serial())
                .ok_or_else(|| anyhow!("demo qualification number out of range"))?;
        node.submit(sign(
            EventId(rng.gen()),
            EventKind::LevelCertified(LevelCertified {
                certificate_number: certificate,
                subject: subject(&people[0]),
                name_commitment: pseudonyms.commit_name(certificate.as_str(), &people[0].name),
                occupation: welder,
                work_type: Some("电焊工".to_string()),
                level,
                issued,
                route,
            }),
        ))
        .map_err(refused)?;
        made.push(("qualification", certificate, people[0].clone()));
    }
    // 专项职业能力证书 (Z series).
    let cook: OccupationCode = "4-03-02-01"
        .parse()
        .unwrap_or_else(|_| unreachable!("valid code"));
    for (worker, ability, issued) in [
        (&people[1], "4-03-02-01-Z01", ymd(2024, 5, 1)),
        (&people[2], "4-03-02-01-Z01", ymd(2024, 5, 1)),
        (&people[3], "4-03-02-01-Z02", ymd(2025, 3, 1)),
    ] {
        let certificate =
            CertificateNumber::compose_special_ability(number, issued.year(), next_serial())
                .ok_or_else(|| anyhow!("demo special ability number out of range"))?;
        node.submit(sign(
            EventId(rng.gen()),
            EventKind::SpecialAbilityCertified(SpecialAbilityCertified {
                certificate_number: certificate,
                subject: subject(worker),
                name_commitment: pseudonyms.commit_name(certificate.as_str(), &worker.name),
                occupation: cook,
                ability: ability.to_string(),
                issued,
            }),
        ))
        .map_err(refused)?;
        made.push(("special_ability", certificate, worker.clone()));
    }
    node.submit(sign(
        EventId(rng.gen()),
        EventKind::CredentialRevoked(CredentialRevoked {
            certificate_number: made[3].1,
            effective: ymd(2025, 1, 15),
            reason: "考核作弊，取消考核成绩和证书".to_string(),
        }),
    ))
    .map_err(refused)?;
    made[3].0 = "special_ability_revoked";
    // 境外技能证书比照认定: IHK Industriemechaniker → 装配钳工 高级工.
    let issued = ymd(2025, 4, 1);
    let catalogue_version = node
        .registry()
        .policy_at(issued)
        .map(|policy| policy.version)
        .ok_or_else(|| anyhow!("no demo policy in force"))?;
    let basis = ForeignComparisonBasis {
        catalogue_version,
        certificate_type: "DE-IHK-Industriemechaniker".to_string(),
        foreign_issuer: "IHK München und Oberbayern".to_string(),
        document_id: "IHK-2021-0042317".to_string(),
    };
    let certificate =
        CertificateNumber::compose(number, issued.year(), Level::Senior, next_serial())
            .ok_or_else(|| anyhow!("demo certificate number out of range"))?;
    let worker = &people[4];
    node.submit(sign(
        basis.event_id(),
        EventKind::LevelCertified(LevelCertified {
            certificate_number: certificate,
            subject: subject(worker),
            name_commitment: pseudonyms.commit_name(certificate.as_str(), &worker.name),
            occupation: "6-20-03-00"
                .parse()
                .unwrap_or_else(|_| unreachable!("valid code")),
            work_type: None,
            level: Level::Senior,
            issued,
            route: Route::ForeignComparison(basis),
        }),
    ))
    .map_err(refused)?;
    made.push(("foreign_comparison", certificate, worker.clone()));
    Ok(made)
}

fn ymd(year: i32, month: u8, day: u8) -> Date {
    Date::from_ymd(year, month, day).unwrap_or_else(|| unreachable!("valid demo date"))
}

/// The other routes up the ladder, each used by a few new workers:
/// apprenticeships (one completed and certified 初级工, one in progress), a national contest
/// whose results are promoted to 技师, 高级工程师 converted to 高级技师, 特级技师 and 首席技师
/// appointments (one ended), and a 技师 converted to 工程师 eligibility. Returns how many
/// events were accepted, and the worker who holds the 首席技师 post (a sample person).
fn other_routes(
    node: &Node,
    bodies: &[DemoBody],
    districts: &[&str],
    rng: &mut StdRng,
) -> Result<(u64, Option<Worker>), anyhow::Error> {
    use skill_ledger_domain::{
        AppointmentBasis, AppointmentEndReason, AppointmentEnded, AppointmentMade,
        AppointmentRightGranted, ApprenticeshipCompleted, ApprenticeshipStarted, ContestRegistered,
        ContestResultRecorded, ContestTier, Policy, TitleEligibilityGranted, TitleLevel,
        TitleRecorded, DEFAULT_POLICY_TOML,
    };
    let policy = Policy::from_toml(DEFAULT_POLICY_TOML)?;
    // An enterprise that evaluates up to 高级技师 in an occupation the conversion mapping knows.
    let Some((body, occupation, mapping)) = bodies.iter().find_map(|body| {
        if body.number.kind() != skill_ledger_domain::BodyKind::Enterprise {
            return None;
        }
        body.scope.iter().find_map(|(code, level)| {
            let occupation: OccupationCode = code.parse().ok()?;
            let mapping = policy
                .conversion
                .mapping
                .iter()
                .find(|row| row.occupations.contains(&occupation))?;
            (*level == Level::SeniorTechnician).then_some((body, occupation, mapping))
        })
    }) else {
        return Ok((0, None));
    };
    let origin = node.origin().to_string();
    let pseudonyms = node.pseudonym_key().clone();
    // Nine more workers, each climbing by one of the other routes.
    let people = workers(rng, 9, districts);
    let fresh: Vec<(&Worker, skill_ledger_domain::SubjectId)> = people
        .iter()
        .map(|worker| {
            let subject = pseudonyms.subject(IdDocumentType::ResidentIdCard, &worker.id_number);
            (worker, subject)
        })
        .collect();
    let mut accepted = 0u64;
    let mut submit = |signed: SignedEvent| -> Result<EventId, anyhow::Error> {
        let id = signed.event.id;
        node.submit(signed)
            .map_err(|error| anyhow!("demo route event refused: {error}"))?;
        accepted += 1;
        Ok(id)
    };
    let mut next_id = || EventId(rng.gen());
    let as_body = |kind: EventKind, id: EventId| {
        SignedEvent::sign(
            &origin,
            Signer::Body(body.number),
            &body.key,
            Event { id, kind },
        )
    };
    let mut serial = 900_000u32;
    let mut certify = |worker: &Worker, level: Level, issued: Date, route: Route| {
        serial += 1;
        let number = CertificateNumber::compose(body.number, issued.year(), level, serial)
            .ok_or_else(|| anyhow!("demo certificate number out of range"))?;
        Ok::<_, anyhow::Error>((
            number,
            EventKind::LevelCertified(LevelCertified {
                certificate_number: number,
                subject: pseudonyms.subject(IdDocumentType::ResidentIdCard, &worker.id_number),
                name_commitment: pseudonyms.commit_name(number.as_str(), &worker.name),
                occupation,
                work_type: None,
                level,
                issued,
                route,
            }),
        ))
    };

    // 学徒工: one completed and certified 初级工 on it, one in progress.
    let (apprentice, subject) = fresh[0];
    let started = submit(as_body(
        EventKind::ApprenticeshipStarted(ApprenticeshipStarted {
            subject,
            occupation,
            started: ymd(2022, 3, 1),
        }),
        next_id(),
    ))?;
    submit(as_body(
        EventKind::ApprenticeshipCompleted(ApprenticeshipCompleted {
            apprenticeship: started,
            subject,
            completed: ymd(2023, 3, 1),
        }),
        next_id(),
    ))?;
    let (_, kind) = certify(
        apprentice,
        Level::Junior,
        ymd(2023, 4, 1),
        Route::Evaluation(EvaluationBasis::Apprenticeship {
            apprenticeship: started,
        }),
    )?;
    submit(as_body(kind, next_id()))?;
    submit(as_body(
        EventKind::ApprenticeshipStarted(ApprenticeshipStarted {
            subject: fresh[1].1,
            occupation,
            started: ymd(2025, 3, 1),
        }),
        next_id(),
    ))?;

    // 竞赛晋升: a national contest; 2nd and 5th places promoted to 技师.
    let contest = submit(node.sign_as_authority(EventKind::ContestRegistered(
        ContestRegistered {
            name: "全国行业职业技能竞赛（演示）".to_string(),
            tier: ContestTier::National,
            occupations: vec![occupation],
            date: ymd(2023, 10, 20),
        },
    )))?;
    for (rank, (worker, subject)) in [(2u16, fresh[2]), (5, fresh[3])] {
        let result = submit(node.sign_as_authority(EventKind::ContestResultRecorded(
            ContestResultRecorded {
                contest,
                subject,
                occupation,
                rank,
                award: if rank <= 3 { "银牌" } else { "优胜奖" }.to_string(),
                date: ymd(2023, 10, 22),
            },
        )))?;
        let (_, kind) = certify(
            worker,
            Level::Technician,
            ymd(2023, 12, 1),
            Route::Contest { result },
        )?;
        submit(as_body(kind, next_id()))?;
    }

    // 贯通 and 评聘: 高级工程师 → 高级技师; 特级技师 four years on, then 首席技师; a second
    // 特级技师 who left the post.
    submit(node.sign_as_authority(EventKind::AppointmentRightGranted(
        AppointmentRightGranted {
            registration_number: body.number,
            levels: vec![Level::PrincipalTechnician, Level::ChiefTechnician],
            effective: ymd(2023, 1, 1),
        },
    )))?;
    for (position, (worker, subject)) in [fresh[4], fresh[5]].into_iter().enumerate() {
        let title = submit(
            node.sign_as_authority(EventKind::TitleRecorded(TitleRecorded {
                subject,
                title: TitleLevel::Associate,
                series: mapping.series.clone(),
                field: mapping.field.clone(),
                obtained: ymd(2018, 12, 1),
            })),
        )?;
        let (number, kind) = certify(
            worker,
            Level::SeniorTechnician,
            ymd(2019, 6, 1),
            Route::Conversion { title },
        )?;
        submit(as_body(kind, next_id()))?;
        let principal = submit(as_body(
            EventKind::AppointmentMade(AppointmentMade {
                subject,
                occupation,
                level: Level::PrincipalTechnician,
                term_start: ymd(2023, 6, 1),
                term_end: ymd(2028, 5, 31),
                basis: AppointmentBasis::Credential(number),
                review: "企业技能人才评价委员会评审，公示5个工作日无异议".to_string(),
            }),
            next_id(),
        ))?;
        if position == 0 {
            submit(as_body(
                EventKind::AppointmentMade(AppointmentMade {
                    subject,
                    occupation,
                    level: Level::ChiefTechnician,
                    term_start: ymd(2024, 6, 1),
                    term_end: ymd(2029, 5, 31),
                    basis: AppointmentBasis::Appointment(principal),
                    review: "首席技师评聘，经职工代表大会审议并公示".to_string(),
                }),
                next_id(),
            ))?;
        } else {
            submit(as_body(
                EventKind::AppointmentEnded(AppointmentEnded {
                    appointment: principal,
                    subject,
                    effective: ymd(2025, 3, 1),
                    reason: AppointmentEndReason::LeftPost,
                    note: "调离技能岗位".to_string(),
                }),
                next_id(),
            ))?;
        }
    }

    // 技能 → 专技: a 技师 of 2021 may be evaluated for 工程师 three years on.
    let (worker, subject) = fresh[6];
    let (number, kind) = certify(
        worker,
        Level::Technician,
        ymd(2021, 5, 1),
        Route::DirectRecognition {
            justification: "一线岗位技术骨干，经企业评价委员会评审并公示".to_string(),
        },
    )?;
    if body.direct {
        submit(as_body(kind, next_id()))?;
        submit(node.sign_as_authority(EventKind::TitleEligibilityGranted(
            TitleEligibilityGranted {
                subject,
                basis: number,
                title: TitleLevel::Intermediate,
                series: mapping.series.clone(),
                field: mapping.field.clone(),
                date: ymd(2024, 5, 1),
            },
        )))?;
    }
    Ok((accepted, Some(fresh[4].0.clone())))
}

/// The sample persons of one ledger: a worker holding two or more valid credentials (a
/// career on the ladder), and the holder of the 首席技师 post.
fn sample_persons(
    accepted: &[(CertificateNumber, usize)],
    revoked: &std::collections::BTreeSet<CertificateNumber>,
    workers: &[Worker],
    post_holder: Option<Worker>,
) -> Vec<(&'static str, Worker)> {
    let mut held: BTreeMap<usize, usize> = BTreeMap::new();
    for (number, worker) in accepted {
        if !revoked.contains(number) {
            *held.entry(*worker).or_insert(0) += 1;
        }
    }
    let mut persons: Vec<(&'static str, Worker)> = held
        .iter()
        .filter(|(_, count)| **count >= 2)
        .take(1)
        .map(|(worker, _)| ("levels", workers[*worker].clone()))
        .collect();
    persons.extend(post_holder.map(|worker| ("post", worker)));
    persons
}

/// Careers: an attested entry level (or a direct recognition), then one level at a time after
/// the policy's years, while the worker keeps at it.
fn plan_careers(bodies: &[DemoBody], workers: usize, rng: &mut StdRng) -> Vec<Planned> {
    let mut plans: Vec<Planned> = Vec::new();
    for worker in 0..workers {
        let body_index = rng.gen_range(0..bodies.len());
        let body = &bodies[body_index];
        let (code, level_max) = body.scope[rng.gen_range(0..body.scope.len())];
        let occupation: OccupationCode = code.parse().unwrap_or_else(|_| unreachable!("code"));
        let mut year = rng.gen_range(2019..=2022);
        let mut level = if rng.gen_bool(0.55) {
            Level::Intermediate
        } else {
            Level::Junior
        };
        if body.direct && rng.gen_bool(0.10) {
            // Direct recognition of an outstanding front-line worker, skipping levels.
            let target = Level::Technician.min(level_max);
            plans.push(Planned {
                issued: date(year, rng),
                body: body_index,
                worker,
                occupation,
                level: target,
                route: Route::DirectRecognition {
                    justification:
                        "一线岗位技术骨干，获企业技术创新一等奖，经企业评价委员会评审并公示"
                            .to_string(),
                },
            });
            continue;
        }
        let mut issued = date(year, rng);
        plans.push(Planned {
            issued,
            body: body_index,
            worker,
            occupation,
            level,
            route: Route::Evaluation(EvaluationBasis::Attested {
                statement: if level == Level::Junior {
                    "本职业工作满1年".to_string()
                } else {
                    "取得技工学校本专业毕业证书".to_string()
                },
            }),
        });
        while let Some(next) = level.above() {
            if next > level_max || next.national_number().is_none() || !rng.gen_bool(0.9) {
                break;
            }
            let years = match next {
                Level::Intermediate => 4,
                Level::Senior if code == "6-18-02-04" => 4,
                Level::Senior => 5,
                _ => 4,
            };
            year = issued.year() + years + rng.gen_range(0..2);
            let candidate = date(year, rng);
            let earliest = issued.add_years(years as u32);
            let next_issued = if candidate < earliest {
                earliest
            } else {
                candidate
            };
            if next_issued.year() > 2025 {
                break;
            }
            plans.push(Planned {
                issued: next_issued,
                body: body_index,
                worker,
                occupation,
                level: next,
                route: Route::Evaluation(EvaluationBasis::PriorLevel),
            });
            level = next;
            issued = next_issued;
        }
    }
    plans.sort_by_key(|plan| (plan.issued, plan.worker));
    plans
}

fn report(summary: &serde_json::Value, json: bool, reused: bool) {
    if json {
        print_json(summary);
        return;
    }
    if reused {
        println!("reusing the demo made earlier (remove its directory for a fresh one)");
    }
    let text = |value: &serde_json::Value| value.as_str().unwrap_or("").to_string();
    if let Some(nodes) = summary["nodes"].as_object() {
        for (key, node) in nodes {
            println!(
                "demo ledger for {} ({key}) in {}",
                text(&node["label"]),
                text(&node["dir"])
            );
            println!(
                "  {} entries: {} bodies, {} workers, {} credentials, {} revoked; high-skill share {}",
                node["entries"],
                node["bodies"],
                node["workers"],
                node["credentials"],
                node["revoked"],
                node["stats"]["holders"]["high_skill_share"]
            );
        }
    }
    println!(
        "  {} workers hold credentials on both ledgers (same pseudonymous subject)",
        summary["workers_on_both_ledgers"]
    );
    let node_of = |item: &serde_json::Value| &summary["nodes"][text(&item["node"])];
    // Served: the portal's form with the number filled in (the name is typed, never in an
    // address); not served: the command line.
    let try_line = |item: &serde_json::Value| match node_of(item)["url"].as_str() {
        Some(url) => format!(
            "    {url}/?cert_no={}  (name: {})",
            text(&item["cert_no"]),
            text(&item["name"])
        ),
        None => format!(
            "    skill-ledger verify --dir {} --cert-no {} --name {}",
            text(&node_of(item)["dir"]),
            text(&item["cert_no"]),
            text(&item["name"])
        ),
    };
    println!("  try a valid certificate:");
    for item in summary["samples"]["valid"]
        .as_array()
        .into_iter()
        .flatten()
        .step_by(3)
    {
        println!("{}", try_line(item));
    }
    if let Some(item) = summary["samples"]["revoked"].get(0) {
        println!("  and a revoked one:\n{}", try_line(item));
    }
    for item in summary["samples"]["kinds"].as_array().into_iter().flatten() {
        let what = match item["kind"].as_str() {
            Some("qualification") => "a 职业资格证书 (qualification)",
            Some("special_ability") => "a 专项职业能力证书 (special ability, no level)",
            Some("special_ability_revoked") => "a revoked 专项职业能力证书",
            Some("foreign_comparison") => "a foreign certificate compared (境外证书比照认定)",
            _ => continue,
        };
        println!("  and {what}:\n{}", try_line(item));
    }
    if let Some(item) = summary["samples"]["issuer_suspended"].get(0) {
        println!(
            "  and one issued inside a suspension logged after it (the portal warns):\n{}",
            try_line(item)
        );
    }
    let served: Vec<(&String, &str)> = summary["nodes"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(key, node)| node["url"].as_str().map(|url| (key, url)))
        .collect();
    if served.is_empty() {
        println!("  serve both with: skill-ledger demo --dir <the same directory>");
    } else {
        for (key, url) in &served {
            println!(
                "  {} ({key}): portal {url}/  statistics {url}/stats  API {url}/v1/  log {url}/checkpoint",
                text(&summary["nodes"][*key]["label"])
            );
        }
        println!("  serving until interrupted (Ctrl-C)");
    }
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
}

fn wait_outcomes(
    pending: Vec<PendingReceipt>,
) -> Vec<Result<skill_ledger_node::Receipt, SubmitError>> {
    pending.into_iter().map(PendingReceipt::wait).collect()
}

fn wait_all(pending: Vec<PendingReceipt>) -> Result<(), anyhow::Error> {
    for outcome in wait_outcomes(pending) {
        outcome.map_err(|error| anyhow!("demo event refused: {error}"))?;
    }
    Ok(())
}
