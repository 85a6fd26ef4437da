//! What a leak of the pseudonym key exposes, and what it does not (docs/security.md, "The
//! pseudonym key"). Every test works on the public log as a reader gets it (the entry bytes),
//! with real HMACs, and counts the HMACs the attacker computes: the cost of the attack is
//! the claim, so it is measured, not assumed.
//!
//! Resident identity numbers (GB 11643-1999) are 18 characters: a 6-digit region code, the
//! birth date as 8 digits, a 3-digit sequence and an ISO 7064 MOD 11-2 check character. The
//! check character is computed, not guessed, so one region and one birth date are exactly
//! 1,000 candidate numbers, and one HMAC each tells whether that person is on the ledger.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use skill_ledger_domain::{
    CertificateNumber, EventKind, IdDocumentType, Level, LevelCertified, MemoryLedger,
    PseudonymKey, SignedEvent, Signer, SubjectId,
};

/// The key the partner authorities share, as it leaked.
fn leaked_key() -> PseudonymKey {
    PseudonymKey::from_bytes([0x5a; 32])
}

/// 万州区, Chongqing.
const WANZHOU: &str = "500101";
/// 锦江区, Chengdu, Sichuan.
const JINJIANG: &str = "510104";

/// GB 11643-1999 check character: ISO 7064 MOD 11-2 over the first 17 digits.
fn check_character(first_17: &str) -> char {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    assert_eq!(first_17.len(), 17);
    let sum: u32 = first_17
        .bytes()
        .zip(WEIGHTS)
        .map(|(digit, weight)| u32::from(digit - b'0') * weight)
        .sum();
    char::from(b"10X98765432"[(sum % 11) as usize])
}

/// The resident identity number of region `region`, born `born`, sequence `sequence`.
fn resident_id(region: &str, born: Date, sequence: u16) -> String {
    let first_17 = format!(
        "{region}{:04}{:02}{:02}{sequence:03}",
        born.year(),
        born.month(),
        born.day()
    );
    let check = check_character(&first_17);
    format!("{first_17}{check}")
}

/// A person as a body knows them: the certificate shows name and document number.
struct Person {
    name: &'static str,
    id_number: String,
}

fn person(name: &'static str, region: &str, born: &str, sequence: u16) -> Person {
    Person {
        name,
        id_number: resident_id(region, d(born), sequence),
    }
}

/// A credential for `holder`, with the subject and name commitment a node computes under `key`.
fn credential_for(
    fx: &Fx,
    key: &PseudonymKey,
    holder: &Person,
    level: Level,
    issued: &str,
) -> SignedEvent {
    let body = y_body();
    let mut certified = fx.cert(&body, 0, turner(), level, issued, attested());
    certified.subject = key.subject(IdDocumentType::ResidentIdCard, &holder.id_number);
    certified.name_commitment = key.commit_name(certified.certificate_number.as_str(), holder.name);
    fx.issue(&body, certified)
}

/// The public log: the bytes of every entry, as `/tile/entries/…` serves them.
fn published(events: &[SignedEvent]) -> Vec<Vec<u8>> {
    events
        .iter()
        .map(|signed| signed.to_entry().expect("entry encodes"))
        .collect()
}

/// What a reader decodes from the public log: every credential, by certificate number.
fn credentials_in(log: &[Vec<u8>]) -> Vec<LevelCertified> {
    log.iter()
        .filter_map(
            |entry| match SignedEvent::from_entry(entry).expect("entry").event.kind {
                EventKind::LevelCertified(certified) => Some(certified),
                _ => None,
            },
        )
        .collect()
}

fn subjects_in(log: &[Vec<u8>]) -> BTreeSet<SubjectId> {
    credentials_in(log)
        .into_iter()
        .map(|certified| certified.subject)
        .collect()
}

/// Counts the HMACs an attacker computes.
struct Attacker {
    key: PseudonymKey,
    hmacs: u64,
}

impl Attacker {
    fn with(key: PseudonymKey) -> Attacker {
        Attacker { key, hmacs: 0 }
    }

    fn subject(&mut self, id_number: &str) -> SubjectId {
        self.hmacs += 1;
        self.key.subject(IdDocumentType::ResidentIdCard, id_number)
    }

    /// Every resident number of `region` born on one of the `days` days from `first_day`,
    /// hashed and looked up among `targets`: the numbers whose subject is a target.
    fn enumerate(
        &mut self,
        targets: &BTreeSet<SubjectId>,
        region: &str,
        first_day: &str,
        days: i32,
    ) -> BTreeMap<SubjectId, String> {
        let first = d(first_day).days_since_unix_epoch();
        let mut found = BTreeMap::new();
        for day in first..first + days {
            let born = Date::from_days_since_unix_epoch(day).expect("a birth date");
            for sequence in 0..1000 {
                let id_number = resident_id(region, born, sequence);
                let subject = self.subject(&id_number);
                if targets.contains(&subject) {
                    found.insert(subject, id_number);
                }
            }
        }
        found
    }

    /// The first name in `candidates` whose commitment on `certificate` is `certified`'s.
    fn name_of(&mut self, certified: &LevelCertified, candidates: &[String]) -> Option<String> {
        candidates
            .iter()
            .find(|name| {
                self.hmacs += 1;
                self.key
                    .commit_name(certified.certificate_number.as_str(), name)
                    == certified.name_commitment
            })
            .cloned()
    }
}

/// 张伟 and 李秀英 born in 万州 in the first days of March 1990, 王建国 in 万州 a week later,
/// 刘梓萱 in 锦江 on 张伟's birthday; each holds one credential.
fn people() -> Vec<Person> {
    vec![
        person("张伟", WANZHOU, "1990-03-02", 123),
        person("李秀英", WANZHOU, "1990-03-04", 86),
        person("王建国", WANZHOU, "1990-03-09", 317),
        person("刘梓萱", JINJIANG, "1990-03-02", 555),
    ]
}

/// The ledger's public log with one credential for each of `people`, under `key`.
fn log_of(fx: &Fx, key: &PseudonymKey, people: &[Person]) -> (MemoryLedger, Vec<Vec<u8>>) {
    let issued = people
        .iter()
        .map(|holder| credential_for(fx, key, holder, Level::Junior, "2020-07-01"));
    let ledger = given(with(fx.setup(), issued));
    let log = published(&ledger.entries);
    (ledger, log)
}

#[test]
fn the_generated_numbers_carry_the_gb_11643_check_character() {
    // The example number of GB 11643-1999 itself, and its check character recomputed.
    assert_eq!(check_character("11010519491231002"), 'X');
    assert_eq!(
        resident_id("110105", d("1949-12-31"), 2),
        "11010519491231002X"
    );
    // One changed digit changes the check character: candidates are not padded with
    // numbers that cannot exist.
    assert_ne!(check_character("11010519491231003"), 'X');
}

#[test]
fn given_the_leaked_key_when_a_known_persons_number_is_hashed_then_one_hmac_finds_all_their_credentials(
) {
    // Given a log where 张伟 holds two credentials among others'.
    let fx = Fx::new();
    let key = leaked_key();
    let people = people();
    let zhang = &people[0];
    let later = credential_for(&fx, &key, zhang, Level::Intermediate, "2024-07-01");
    let (ledger, _) = log_of(&fx, &key, &people);
    let mut events = ledger.entries.clone();
    events.push(later);
    let log = published(&events);

    // When someone with the key and 张伟's number (a copy of his identity card) hashes it.
    let mut attacker = Attacker::with(key);
    let subject = attacker.subject(&zhang.id_number);

    // Then one HMAC names his credentials in the public log, and only his.
    let his: Vec<CertificateNumber> = credentials_in(&log)
        .into_iter()
        .filter(|certified| certified.subject == subject)
        .map(|certified| certified.certificate_number)
        .collect();
    assert_eq!(attacker.hmacs, 1);
    assert_eq!(his.len(), 2);
    assert_eq!(credentials_in(&log).len(), people.len() + 1);
}

#[test]
fn given_the_leaked_key_when_one_region_and_four_birth_dates_are_enumerated_then_4000_hmacs_recover_every_number_born_there(
) {
    // Given the public log of four people's credentials.
    let fx = Fx::new();
    let key = leaked_key();
    let people = people();
    let (_, log) = log_of(&fx, &key, &people);
    let targets = subjects_in(&log);
    assert_eq!(targets.len(), people.len());

    // When an attacker with the key enumerates 万州, 1990-03-01 to 1990-03-04.
    let mut attacker = Attacker::with(key.clone());
    let found = attacker.enumerate(&targets, WANZHOU, "1990-03-01", 4);

    // Then 4 days × 1,000 sequences = 4,000 HMACs give back the identity numbers of the two
    // people born there and then, each the number on their certificate.
    assert_eq!(attacker.hmacs, 4 * 1000);
    let recovered: BTreeSet<&str> = found.values().map(String::as_str).collect();
    let expected: BTreeSet<&str> = [&people[0], &people[1]]
        .iter()
        .map(|holder| holder.id_number.as_str())
        .collect();
    assert_eq!(recovered, expected);
    for (subject, id_number) in &found {
        assert_eq!(
            &key.subject(IdDocumentType::ResidentIdCard, id_number),
            subject
        );
    }

    // And the narrowing is all that bounds it: 王建国 (万州, five days later) and 刘梓萱 (锦江,
    // same day) are outside those 4,000 numbers; widening to ten days finds 王建国 for
    // 10,000 more HMACs, and 锦江's four days cost the same 4,000 as 万州's.
    let mut attacker = Attacker::with(key.clone());
    let wider = attacker.enumerate(&targets, WANZHOU, "1990-03-01", 10);
    assert_eq!(attacker.hmacs, 10 * 1000);
    assert_eq!(wider.len(), 3);
    assert!(wider.values().any(|number| number == &people[2].id_number));
    let mut attacker = Attacker::with(key);
    let sichuan = attacker.enumerate(&targets, JINJIANG, "1990-03-01", 4);
    assert_eq!(attacker.hmacs, 4 * 1000);
    assert_eq!(
        sichuan.values().collect::<Vec<_>>(),
        vec![&people[3].id_number]
    );
}

#[test]
fn given_no_key_when_the_same_numbers_are_enumerated_then_nothing_is_found() {
    // Given the same public log.
    let fx = Fx::new();
    let people = people();
    let (_, log) = log_of(&fx, &leaked_key(), &people);
    let targets = subjects_in(&log);

    // When a reader without the key runs the same enumeration under keys it can guess (all
    // zeros, or the key of another deployment).
    for guess in [[0u8; 32], [0x5b; 32]] {
        let mut reader = Attacker::with(PseudonymKey::from_bytes(guess));
        let found = reader.enumerate(&targets, WANZHOU, "1990-03-01", 10);

        // Then the same 10,000 HMACs match no subject of the log: the number space is small,
        // but each guess has to be paired with the 256-bit key.
        assert_eq!(reader.hmacs, 10 * 1000);
        assert!(found.is_empty(), "found {found:?} without the key");
    }
    // (While the leaked key, over the same numbers, finds three: the search is not empty by
    // construction.)
    let mut attacker = Attacker::with(leaked_key());
    assert_eq!(
        attacker
            .enumerate(&targets, WANZHOU, "1990-03-01", 10)
            .len(),
        3
    );
}

/// Candidate names: common surnames and given names, as a list of the most frequent ones
/// would give them.
fn candidate_names() -> Vec<String> {
    let surnames = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"];
    let given = [
        "伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "勇", "军", "杰", "涛", "明", "超", "秀英",
        "建国", "建华", "桂英", "玉兰", "志强",
    ];
    surnames
        .iter()
        .flat_map(|surname| given.iter().map(move |name| format!("{surname}{name}")))
        .collect()
}

#[test]
fn given_the_leaked_key_when_candidate_names_are_tried_then_each_commitment_gives_up_its_name_one_certificate_at_a_time(
) {
    // Given the public log, and two certificates of 张伟.
    let fx = Fx::new();
    let key = leaked_key();
    let people = people();
    let zhang = &people[0];
    let (ledger, _) = log_of(&fx, &key, &people);
    let mut events = ledger.entries.clone();
    events.push(credential_for(
        &fx,
        &key,
        zhang,
        Level::Intermediate,
        "2024-07-01",
    ));
    let log = published(&events);
    let candidates = candidate_names();
    assert_eq!(candidates.len(), 200);

    // When an attacker with the key tries the 200 candidates against every credential.
    let mut attacker = Attacker::with(key);
    let credentials = credentials_in(&log);
    let names: Vec<Option<String>> = credentials
        .iter()
        .map(|certified| attacker.name_of(certified, &candidates))
        .collect();

    // Then every holder whose name is on the list is named, at most 200 HMACs a certificate
    // and never fewer than one per certificate: the commitment is bound to the certificate
    // number, so one person's two certificates commit differently and a name found on one
    // is not a name found on the other.
    let expected: Vec<Option<String>> = [people[0].name, people[1].name, people[2].name]
        .iter()
        .map(|name| Some(name.to_string()))
        .chain([None, Some(zhang.name.to_string())])
        .collect();
    assert_eq!(names, expected);
    assert!(attacker.hmacs <= 200 * credentials.len() as u64);
    assert!(attacker.hmacs > 200, "刘梓萱 alone costs the whole list");
    assert_ne!(
        credentials[0].name_commitment,
        credentials[4].name_commitment
    );
    // 刘梓萱 is not on the list: the list bounds what is found, not the key.
    assert!(!candidates.iter().any(|name| name == people[3].name));
}

#[test]
fn given_no_key_when_the_candidate_names_are_tried_then_no_commitment_matches() {
    let fx = Fx::new();
    let people = people();
    let (_, log) = log_of(&fx, &leaked_key(), &people);
    let candidates = candidate_names();

    let mut reader = Attacker::with(PseudonymKey::from_bytes([0u8; 32]));
    let named: Vec<String> = credentials_in(&log)
        .iter()
        .filter_map(|certified| reader.name_of(certified, &candidates))
        .collect();

    assert!(named.is_empty(), "named {named:?} without the key");
    assert_eq!(reader.hmacs, 200 * people.len() as u64);
}

#[test]
fn given_the_leaked_key_when_the_leaker_issues_a_credential_for_a_subject_it_computed_then_the_ledger_refuses_it(
) {
    // Given the public log, and an attacker who computed 张伟's subject with the key.
    let fx = Fx::new();
    let pseudonym_key = leaked_key();
    let people = people();
    let (ledger, _) = log_of(&fx, &pseudonym_key, &people);
    let forged = credential_for(&fx, &pseudonym_key, &people[0], Level::Senior, "2025-07-01");

    // When it submits a credential in the Y body's name, signed with a key of its own
    // (the pseudonym key signs nothing), or as the authority.
    let as_body = SignedEvent::sign(
        ORIGIN,
        Signer::Body(y_body().number),
        &key(66),
        forged.event.clone(),
    );
    let as_authority = SignedEvent::sign(ORIGIN, Signer::Authority, &key(66), forged.event);

    // Then both are refused and nothing is written: a leak exposes, it does not forge.
    check(
        ledger.entries.clone(),
        as_body,
        Err("key-not-valid-at-date"),
    );
    check(ledger.entries, as_authority, Err("wrong-signer"));
}

/// A publicly linked rotation as the re-keying events would publish it: for every subject on
/// the ledger, the pair (old pseudonym, new pseudonym). No identity number appears in it.
fn linked_rotation(
    old_key: &PseudonymKey,
    new_key: &PseudonymKey,
    people: &[Person],
) -> BTreeMap<SubjectId, SubjectId> {
    people
        .iter()
        .map(|holder| {
            (
                old_key.subject(IdDocumentType::ResidentIdCard, &holder.id_number),
                new_key.subject(IdDocumentType::ResidentIdCard, &holder.id_number),
            )
        })
        .collect()
}

#[test]
fn given_a_publicly_linked_rotation_when_the_leaker_follows_the_link_then_it_finds_the_new_pseudonyms_for_no_more_hmacs(
) {
    // Given a log written under the leaked key, a rotation to a new key that publishes the
    // link old → new for every person on the ledger, and then new credentials under the new
    // key: for 张伟 (already on the ledger) and for 赵敏 (first certified after it).
    let fx = Fx::new();
    let old_key = leaked_key();
    let new_key = PseudonymKey::from_bytes([0xc3; 32]);
    let people = people();
    let (ledger, _) = log_of(&fx, &old_key, &people);
    let links = linked_rotation(&old_key, &new_key, &people);
    let newcomer = person("赵敏", WANZHOU, "1990-03-03", 402);
    let mut events = ledger.entries.clone();
    events.push(credential_for(
        &fx,
        &new_key,
        &people[0],
        Level::Intermediate,
        "2025-07-01",
    ));
    events.push(credential_for(
        &fx,
        &new_key,
        &newcomer,
        Level::Junior,
        "2025-07-01",
    ));
    let log = published(&events);
    let subjects = subjects_in(&log);

    // When the leaker, holding only the old key, enumerates the same 4,000 numbers as before
    // the rotation and follows the links.
    let mut leaker = Attacker::with(old_key.clone());
    let old_subjects: BTreeSet<SubjectId> = links.keys().copied().collect();
    let found = leaker.enumerate(&old_subjects, WANZHOU, "1990-03-01", 4);
    let followed: BTreeMap<SubjectId, &String> = found
        .iter()
        .map(|(old, id_number)| (links[old], id_number))
        .collect();

    // Then it holds the new pseudonym of every person it had already recovered, for the
    // same 4,000 HMACs, and with it 张伟's credential issued after the rotation: the link
    // restored nothing for the persons already on the ledger.
    assert_eq!(leaker.hmacs, 4 * 1000);
    let zhang_new = new_key.subject(IdDocumentType::ResidentIdCard, &people[0].id_number);
    assert_eq!(followed.get(&zhang_new), Some(&&people[0].id_number));
    assert_eq!(followed.len(), 2);
    let found_after_rotation: Vec<CertificateNumber> = credentials_in(&log)
        .into_iter()
        .filter(|certified| certified.issued == d("2025-07-01"))
        .filter(|certified| followed.contains_key(&certified.subject))
        .map(|certified| certified.certificate_number)
        .collect();
    assert_eq!(found_after_rotation.len(), 1);

    // And what the new key does protect is only the person first certified under it: 赵敏,
    // born inside the enumerated days, is in neither the old subjects nor the links.
    let newcomer_new = new_key.subject(IdDocumentType::ResidentIdCard, &newcomer.id_number);
    assert!(subjects.contains(&newcomer_new));
    assert!(!followed.contains_key(&newcomer_new));
    let mut leaker = Attacker::with(old_key);
    assert!(leaker
        .enumerate(&subjects, WANZHOU, "1990-03-03", 1)
        .values()
        .all(|number| number != &newcomer.id_number));
}

fn old_of(key: &PseudonymKey, holder: &Person) -> SubjectId {
    key.subject(IdDocumentType::ResidentIdCard, &holder.id_number)
}

#[test]
fn given_an_unlinked_rotation_when_an_existing_person_builds_on_a_prior_level_then_the_rules_no_longer_find_it(
) {
    // Given 张伟's 初级工 in 车工 (2019) under the old key.
    let fx = Fx::new();
    let old_key = leaked_key();
    let new_key = PseudonymKey::from_bytes([0xc3; 32]);
    let zhang = &people()[0];
    let first = credential_for(&fx, &old_key, zhang, Level::Junior, "2019-07-01");
    let history = with(fx.setup(), [first]);

    // When, five years on, his 中级工 on that prior level carries his subject under a new key
    // that nothing in the log links to the old one.
    let body = y_body();
    let mut next = fx.cert(
        &body,
        0,
        turner(),
        Level::Intermediate,
        "2024-07-01",
        prior(),
    );
    next.name_commitment = new_key.commit_name(next.certificate_number.as_str(), zhang.name);
    next.subject = new_key.subject(IdDocumentType::ResidentIdCard, &zhang.id_number);
    let unlinked = fx.issue(&body, next.clone());

    // Then the rules, which see only the log, find no prior level for him and refuse it,
    // though under the old subject the same evaluation is accepted: a rotation that keeps
    // history has to link old and new in the log.
    let (_, rejection) = check(history.clone(), unlinked, Err("level-not-reachable"));
    assert!(rejection.is_some());
    next.subject = old_of(&old_key, zhang);
    next.name_commitment = old_key.commit_name(next.certificate_number.as_str(), zhang.name);
    check(history, fx.issue(&body, next), Ok(()));
}
