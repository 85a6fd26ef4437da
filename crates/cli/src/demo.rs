//! `skill-ledger demo`: a realistic synthetic ledger for Chongqing.
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
    /// Where to create the demo (the Chongqing node goes in DIR/50).
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

fn body_specs() -> Vec<BodySpec> {
    use Level::*;
    vec![
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
    ]
}

fn identity_number(rng: &mut StdRng) -> String {
    let districts = [
        "500101", "500103", "500105", "500106", "500112", "500113", "500116", "500118",
    ];
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

pub fn run(args: DemoArgs, json: bool) -> CliResult {
    let dir = args.dir.join("50");
    let summary_path = args.dir.join(SUMMARY_FILE);
    if dir.exists() {
        // Re-running the demo reuses what an earlier run made (names exist only there).
        let text = std::fs::read_to_string(&summary_path).with_context(|| {
            format!(
                "{} exists but holds no finished demo ({} is missing): remove the directory or choose another --dir",
                dir.display(),
                summary_path.display()
            )
        })?;
        let summary: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a demo summary", summary_path.display()))?;
        // Opening checks the ledger against its checkpoint before anything is shown.
        crate::admin::open(&crate::DirArg { dir: dir.clone() })?.close()?;
        report(&summary, &dir, json, args.no_serve, true);
        return Ok(());
    }
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut options = InitOptions::for_province(Province::CHONGQING, "重庆市人力资源和社会保障局");
    options.date = Date::from_ymd(2019, 1, 1).unwrap_or_else(|| unreachable!("valid date"));
    let node = Node::init(&dir, options)
        .with_context(|| format!("creating the demo in {}", dir.display()))?;
    let keys_dir = dir.join("keys");
    let bodies: Vec<DemoBody> = body_specs()
        .into_iter()
        .map(|(number, name, scope, direct)| DemoBody {
            number: number
                .parse()
                .unwrap_or_else(|_| unreachable!("valid demo number")),
            name,
            key: SigningKey::from_bytes(&rng.gen()),
            scope,
            direct,
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

    // Plan careers.
    let mut workers: Vec<(String, String)> = Vec::new();
    let mut plans: Vec<Planned> = Vec::new();
    for worker in 0..args.workers as usize {
        let name = format!(
            "{}{}",
            SURNAMES[rng.gen_range(0..SURNAMES.len())],
            GIVEN[rng.gen_range(0..GIVEN.len())]
        );
        workers.push((name, identity_number(&mut rng)));
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
                issued: date(year, &mut rng),
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
        let mut issued = date(year, &mut rng);
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
        // Climb while the policy's years allow and the worker keeps at it.
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
            let candidate = date(year, &mut rng);
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

    let origin = node.origin().to_string();
    let pseudonyms = node.pseudonym_key().clone();
    let mut serials: BTreeMap<(usize, i32), u32> = BTreeMap::new();
    let mut issued_certs: Vec<(CertificateNumber, usize, usize)> = Vec::new();
    let mut pending = Vec::new();
    let bar = crate::bench::progress_bar(plans.len() as u64, "certifying", json);
    for (position, plan) in plans.iter().enumerate() {
        let body = &bodies[plan.body];
        // Serials run within the body and year (positions 17-22).
        let serial = serials.entry((plan.body, plan.issued.year())).or_insert(0);
        *serial += 1;
        let number =
            CertificateNumber::compose(body.number, plan.issued.year(), plan.level, *serial)
                .ok_or_else(|| anyhow!("demo certificate number out of range"))?;
        let (name, id_number) = &workers[plan.worker];
        let signed = SignedEvent::sign(
            &origin,
            Signer::Body(body.number),
            &body.key,
            Event {
                id: EventId(rng.gen()),
                kind: EventKind::LevelCertified(LevelCertified {
                    certificate_number: number,
                    subject: pseudonyms.subject(IdDocumentType::ResidentIdCard, id_number),
                    name_commitment: pseudonyms.commit_name(number.as_str(), name),
                    occupation: plan.occupation,
                    work_type: None,
                    level: plan.level,
                    issued: plan.issued,
                    route: plan.route.clone(),
                }),
            },
        );
        pending.push(node.submit_pending(signed)?);
        issued_certs.push((number, plan.worker, position));
        bar.inc(1);
    }
    let outcomes = wait_outcomes(pending);
    bar.finish_and_clear();
    let mut accepted: Vec<(CertificateNumber, usize)> = Vec::new();
    let mut rejected_codes: BTreeMap<String, u64> = BTreeMap::new();
    for ((number, worker, _), outcome) in issued_certs.iter().zip(outcomes) {
        match outcome {
            Ok(_) => accepted.push((*number, *worker)),
            Err(SubmitError::Rejected(rejection)) => {
                *rejected_codes
                    .entry(rejection.code().to_string())
                    .or_insert(0) += 1
            }
            Err(error) => return Err(anyhow!(error).into()),
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
    let sample = |list: &[(CertificateNumber, usize)], count: usize| -> Vec<serde_json::Value> {
        list.iter()
            .take(count)
            .map(|(number, worker)| json!({"cert_no": number.as_str(), "name": workers[*worker].0}))
            .collect()
    };
    let valid: Vec<(CertificateNumber, usize)> = accepted
        .iter()
        .filter(|(number, _)| !revoked_set.contains(number))
        .rev()
        .copied()
        .collect();
    let stats = skill_ledger_node::stats_document(&node.stats()?);
    let summary = json!({
        "nodes": {"50": {"dir": dir, "url": serde_json::Value::Null}},
        "samples": {"valid": sample(&valid, 5), "revoked": sample(&revoked, 3)},
        "entries": node.entry_count(),
        "bodies": bodies.len(),
        "workers": args.workers,
        "credentials": accepted.len(),
        "revoked": revoked.len(),
        "rejected_by_rule": rejected_codes,
        "stats": stats,
    });
    node.close()?;
    std::fs::write(&summary_path, format!("{summary}\n"))
        .with_context(|| format!("writing {}", summary_path.display()))?;
    report(&summary, &dir, json, args.no_serve, false);
    Ok(())
}

fn report(
    summary: &serde_json::Value,
    dir: &std::path::Path,
    json: bool,
    no_serve: bool,
    reused: bool,
) {
    if json {
        print_json(summary);
    } else {
        if reused {
            println!("reusing the demo made earlier (remove its directory for a fresh one)");
        }
        println!("demo ledger for Chongqing (50) in {}", dir.display());
        println!(
            "  {} entries: {} bodies, {} workers, {} credentials, {} revoked",
            summary["entries"],
            summary["bodies"],
            summary["workers"],
            summary["credentials"],
            summary["revoked"]
        );
        println!(
            "  high-skill share: {}",
            summary["stats"]["holders"]["high_skill_share"]
        );
        println!("  try a valid certificate:");
        for item in summary["samples"]["valid"]
            .as_array()
            .into_iter()
            .flatten()
            .take(3)
        {
            println!(
                "    skill-ledger verify --dir {} --cert-no {} --name {}",
                dir.display(),
                item["cert_no"].as_str().unwrap_or(""),
                item["name"].as_str().unwrap_or("")
            );
        }
        if let Some(item) = summary["samples"]["revoked"].get(0) {
            println!(
                "  and a revoked one:\n    skill-ledger verify --dir {} --cert-no {} --name {}",
                dir.display(),
                item["cert_no"].as_str().unwrap_or(""),
                item["name"].as_str().unwrap_or("")
            );
        }
        if !no_serve {
            println!("  (serving the portal arrives with the HTTP service; the data is ready)");
        }
    }
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
