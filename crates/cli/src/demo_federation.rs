//! The demo's two ledgers as 川渝 partners: Chongqing (`D/50`) and Sichuan (`D/51`), which
//! share one pseudonym key, each configured as the other's partner, each mirroring the other
//! and each checkpoint cosigned by the other's witness, all from the directories before
//! anything is served.
//!
//! [`configure_partners`] runs once, right after both ledgers are built. When the nodes
//! listen, [`federation_for`] gives each node's [`Federation`] with the partner's URL (the
//! address is known only then), to put in the `AppState` before
//! `skill_ledger_server::federation::start`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use anyhow::{anyhow, Context};
use serde_json::{json, Value};
use skill_ledger_domain::{
    CertificateNumber, ContestJoined, ContestRegistered, ContestResultRecorded, ContestTier,
    CredentialRevoked, Date, EventKind, PartnerContestResultAccepted, SignedEvent, Signer,
};
use skill_ledger_node::{read_verifier_key, Node};
use skill_ledger_server::federation::Federation;
use skill_ledger_sync::witness::{load_or_create_cosigner, LocalWitness};
use skill_ledger_sync::{check_partner_result, recognition_from_mirror, withdrawals_due};
use skill_ledger_sync::{
    now_unix_s, request_cosignature, Home, Mirror, NodeLog, PartnerConfig, Partners, PullOptions,
    Witness,
};

/// What one ledger knows of itself that its partner needs.
struct Side {
    home: Home,
    vkey: String,
    witness_vkey: String,
}

fn side(dir: &Path) -> anyhow::Result<Side> {
    let home = Home::load(dir).with_context(|| format!("demo ledger {}", dir.display()))?;
    let vkey = read_verifier_key(dir)?;
    let witness_vkey = load_or_create_cosigner(&home)?.verifier_key_text();
    Ok(Side {
        home,
        vkey,
        witness_vkey,
    })
}

/// Writes `partners.toml` of `home` naming `other` (replacing an earlier entry for it). The
/// URL stays empty: it is given when the nodes listen.
fn add_partner(home: &Side, other: &Side) -> anyhow::Result<PartnerConfig> {
    let mut partners = Partners::load(&home.home)?;
    partners
        .partners
        .retain(|partner| partner.origin != other.home.origin);
    let partner = PartnerConfig {
        origin: other.home.origin.clone(),
        vkey: other.vkey.clone(),
        url: None,
        witness_vkey: Some(other.witness_vkey.clone()),
        pseudonym_key_fingerprint: other.home.pseudonym_key_fingerprint.clone(),
    };
    partners.add(partner.clone(), &home.home)?;
    partners.save(&home.home)?;
    Ok(partner)
}

/// The day the demo authorities recognise each other's credentials, and the day Sichuan
/// revokes one of those it issued (after the demo's last issue date).
const RECOGNITION_DATE: (i32, u8, u8) = (2025, 11, 30);

/// Makes the demo ledgers in `chongqing` and `sichuan` partners of each other: partners.toml
/// on both (origin, checkpoint key, witness key, pseudonym key fingerprint), a full mirror
/// pull of each from the other's directory, cross-recognitions (互认: each authority
/// recognises the partner credentials in `to_recognise[me]`, as its mirror holds them; then
/// Sichuan revokes the first one Chongqing recognised, and Chongqing withdraws its recognition
/// as a served node would), and each checkpoint cosigned by the other's witness. The ledgers
/// must not be open elsewhere. Returns a summary per ledger.
pub fn configure_partners(
    chongqing: &Path,
    sichuan: &Path,
    to_recognise: [&[CertificateNumber]; 2],
) -> anyhow::Result<Value> {
    let sides = [side(chongqing)?, side(sichuan)?];
    if sides[0].home.pseudonym_key_fingerprint != sides[1].home.pseudonym_key_fingerprint {
        return Err(anyhow!(
            "the demo ledgers do not share one pseudonym key: they cannot be partners"
        ));
    }
    let configs = [
        add_partner(&sides[0], &sides[1])?,
        add_partner(&sides[1], &sides[0])?,
    ];
    let (node_50, _) = Node::open(chongqing)?;
    let (node_51, _) = Node::open(sichuan)?;
    let nodes = [&node_50, &node_51];
    let mut summary = serde_json::Map::new();
    let mut reports = Vec::new();
    for (me, other) in [(0, 1), (1, 0)] {
        // The mirror of the partner, verified entry by entry from its directory.
        let mut mirror = Mirror::open(&sides[me].home, &configs[me])?;
        reports.push(mirror.pull(
            &NodeLog::new(nodes[other]),
            &PullOptions::default(),
            &mut |_| {},
        )?);
    }
    let mut recognitions = cross_recognise(&sides, &configs, nodes, to_recognise)?;
    recognitions[0]["joint_contest"] = joint_contest(&sides, &configs, nodes, to_recognise[0])?;
    for (me, other) in [(0, 1), (1, 0)] {
        let report = &reports[me];
        // The partner's witness (run here on its directory) cosigns this checkpoint.
        let witness = Witness::open(&sides[other].home)?;
        let cosigned = request_cosignature(
            &sides[me].home.dir,
            nodes[me],
            &configs[me],
            &LocalWitness {
                witness: &witness,
                now_unix_s: now_unix_s(),
            },
        )?;
        summary.insert(
            sides[me].home.origin.clone(),
            json!({
                "partner": configs[me].origin,
                "mirrored_entries": report.cursor_after,
                "partner_credentials": report.credentials,
                "cosigned_size": cosigned.checkpoint.size,
                "witness_vkey": sides[me].witness_vkey,
                "recognitions": recognitions[me],
                "entries": nodes[me].entry_count(),
            }),
        );
    }
    node_50.close()?;
    node_51.close()?;
    Ok(Value::Object(summary))
}

/// 互认 in the demo: each authority recognises the partner credentials listed for it; Sichuan
/// then revokes the first one Chongqing recognised, Chongqing's mirror pulls the revocation
/// and Chongqing withdraws its recognition, the way `serve` does after a pull. Returns, per
/// ledger, the certificates recognised and withdrawn.
fn cross_recognise(
    sides: &[Side; 2],
    configs: &[PartnerConfig; 2],
    nodes: [&Node; 2],
    to_recognise: [&[CertificateNumber]; 2],
) -> anyhow::Result<[Value; 2]> {
    let (year, month, day) = RECOGNITION_DATE;
    let date = Date::from_ymd(year, month, day).ok_or_else(|| anyhow!("recognition date"))?;
    let mut recognised: [Vec<CertificateNumber>; 2] = [Vec::new(), Vec::new()];
    for me in [0, 1] {
        let mirror = Mirror::open(&sides[me].home, &configs[me])?;
        let registry = nodes[me].registry();
        let policy = registry
            .policy_at(date)
            .ok_or_else(|| anyhow!("no policy in force on {date}"))?;
        for number in to_recognise[me] {
            let Ok(recognition) = recognition_from_mirror(&mirror.reader(), policy, number, date)
            else {
                continue;
            };
            let signed = nodes[me].sign_as_authority(EventKind::RecognitionRecorded(recognition));
            if nodes[me].submit(signed).is_ok() {
                recognised[me].push(*number);
            }
        }
    }
    // Sichuan revokes the first credential Chongqing recognised.
    let mut withdrawn = Vec::new();
    if let Some(number) = recognised[0].first() {
        let revocation =
            nodes[1].sign_as_authority(EventKind::CredentialRevoked(CredentialRevoked {
                certificate_number: *number,
                effective: date,
                reason: "证书持有人考核作弊, 经核查撤销 (演示数据)".to_string(),
            }));
        nodes[1].submit(revocation)?;
        let mut mirror = Mirror::open(&sides[0].home, &configs[0])?;
        mirror.pull(
            &NodeLog::new(nodes[1]),
            &PullOptions::default(),
            &mut |_| {},
        )?;
        let held = nodes[0].recognitions(&configs[0].origin)?;
        for event in withdrawals_due(&mirror.reader(), &held)? {
            let signed = SignedEvent::sign(
                nodes[0].origin(),
                Signer::Authority,
                nodes[0].authority_key(),
                event,
            );
            nodes[0].submit(signed)?;
        }
        withdrawn.push(*number);
    }
    let list = |numbers: &[CertificateNumber]| {
        numbers
            .iter()
            .map(|number| number.as_str().to_string())
            .collect::<Vec<_>>()
    };
    Ok([
        json!({"recognised": list(&recognised[0]), "withdrawn_after_origin_revoked": list(&withdrawn)}),
        json!({"recognised": list(&recognised[1]), "withdrawn_after_origin_revoked": []}),
    ])
}

/// 赛项共定、结果互认 in the demo: both authorities register a national contest in the
/// occupation of a Sichuan credential Chongqing may recognise and record it as joint; Sichuan
/// records its holder's second place; Chongqing's mirror pulls it and Chongqing accepts the
/// result (checked against the mirror) into its own contest, for its own promotion table.
fn joint_contest(
    sides: &[Side; 2],
    configs: &[PartnerConfig; 2],
    nodes: [&Node; 2],
    sichuan_credentials: &[CertificateNumber],
) -> anyhow::Result<Value> {
    let day = |month, day| Date::from_ymd(2025, month, day).ok_or_else(|| anyhow!("demo date"));
    let mirror = Mirror::open(&sides[0].home, &configs[0])?;
    let Some(credential) = sichuan_credentials
        .iter()
        .rev()
        .find_map(|number| mirror.credential(number).ok().flatten())
    else {
        return Ok(Value::Null);
    };
    drop(mirror);
    let record = credential.record;
    let submit = |node: &Node, kind: EventKind| -> anyhow::Result<skill_ledger_domain::EventId> {
        let signed = node.sign_as_authority(kind);
        let id = signed.event.id;
        node.submit(signed)?;
        Ok(id)
    };
    let contest = |node: &Node| -> anyhow::Result<skill_ledger_domain::EventId> {
        submit(
            node,
            EventKind::ContestRegistered(ContestRegistered {
                name: "川渝职业技能大赛 (演示)".to_string(),
                tier: ContestTier::National,
                occupations: vec![record.occupation],
                date: day(10, 15)?,
            }),
        )
    };
    let contests = [contest(nodes[0])?, contest(nodes[1])?];
    for (me, other) in [(0, 1), (1, 0)] {
        submit(
            nodes[me],
            EventKind::ContestJoined(ContestJoined {
                contest: contests[me],
                partner_origin: configs[me].origin.clone(),
                partner_contest: contests[other],
                date: day(9, 1)?,
            }),
        )?;
    }
    let result = submit(
        nodes[1],
        EventKind::ContestResultRecorded(ContestResultRecorded {
            contest: contests[1],
            subject: record.subject,
            occupation: record.occupation,
            rank: 2,
            award: "二等奖".to_string(),
            date: day(10, 20)?,
        }),
    )?;
    let mut mirror = Mirror::open(&sides[0].home, &configs[0])?;
    mirror.pull(
        &NodeLog::new(nodes[1]),
        &PullOptions::default(),
        &mut |_| {},
    )?;
    let entry_index = mirror
        .reader()
        .career(&record.subject)?
        .and_then(|career| {
            career
                .contest_results
                .into_iter()
                .find(|held| held.id == result)
        })
        .map(|held| held.entry_index)
        .ok_or_else(|| anyhow!("the mirror holds no joint contest result"))?;
    let accepted = PartnerContestResultAccepted {
        contest: contests[0],
        origin: configs[0].origin.clone(),
        partner_result: result,
        entry_index,
        subject: record.subject,
        occupation: record.occupation,
        rank: 2,
        award: "二等奖".to_string(),
        date: day(10, 20)?,
    };
    check_partner_result(&mirror.reader(), &accepted, contests[1])?;
    submit(nodes[0], EventKind::PartnerContestResultAccepted(accepted))?;
    Ok(json!({
        "contest": contests[0].to_hex(),
        "partner_contest": contests[1].to_hex(),
        "subject": record.subject.to_hex(),
        "partner_result": result.to_hex(),
    }))
}

/// The federation of a served demo node whose partner `partner_origin` listens on
/// `partner_address` (the URL is set for this run; partners.toml is not changed).
pub fn federation_for(
    node: &Node,
    partner_origin: &str,
    partner_address: SocketAddr,
) -> anyhow::Result<Federation> {
    let urls = BTreeMap::from([(
        partner_origin.to_string(),
        format!("http://{partner_address}"),
    )]);
    Federation::open(node, &urls)
        .with_context(|| format!("opening the federation of {}", node.origin()))
}
