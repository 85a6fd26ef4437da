//! 拒绝原因的中文说明: one Chinese message per [`Rejection`] code, the one table the CLI
//! (`--lang zh`) and the portal read, so a rule is explained in the same words everywhere.
//!
//! A message says which rule refused the event, in the words of the domain (证书编号, 评价机构,
//! 备案); the particulars (which number, which date) are in the English
//! [`Rejection`]'s `Display`, printed beside it. Kept apart from `rejection.rs` so that file's
//! code list stays what its own test reads.

use crate::rejection::Rejection;

/// (code, 中文说明) for every [`Rejection::ALL_CODES`] entry, in the same order.
pub const REJECTION_MESSAGES_ZH: &[(&str, &str)] = &[
    (
        "ledger-not-established",
        "账本尚未建立：第 0 条记录必须是账本建立事件",
    ),
    ("ledger-already-established", "账本已经建立"),
    ("origin-mismatch", "事件所属账本与本账本不符"),
    ("duplicate-event-id", "事件编号已被内容不同的另一事件使用"),
    ("bad-signature", "签名验证失败"),
    ("wrong-signer", "该事件须由其他签署方签名"),
    ("weak-key", "公钥为弱密钥，不能使用"),
    ("unknown-body", "评价机构未在本账本备案"),
    (
        "key-not-valid-at-date",
        "签名密钥在该日期不是签署方的有效密钥",
    ),
    (
        "key-revoked",
        "签名密钥已被声明泄露，此后以其签名的事件一律不予接受",
    ),
    ("not-a-body-key", "该密钥不属于此评价机构"),
    ("key-already-revoked", "该密钥已被声明泄露"),
    ("key-reused", "授权密钥或恢复密钥只能使用一次"),
    ("no-recovery-key", "本账本没有恢复密钥，无法恢复授权密钥"),
    ("authority-key-not-held", "本节点未持有新的授权密钥"),
    (
        "body-not-active",
        "评价机构在该日期不处于有效状态（已暂停或已取消备案）",
    ),
    (
        "outside-registration-window",
        "日期不在评价机构的备案有效期内",
    ),
    ("out-of-scope", "超出评价机构备案的职业（工种）和等级范围"),
    ("no-catalogue", "尚未采用职业目录"),
    ("unknown-occupation", "职业不在现行职业目录中"),
    ("unknown-work-type", "工种不在该职业的目录中"),
    ("no-policy-in-force", "该日期没有生效的政策"),
    ("bad-certificate-number", "证书编号不符合编码规则"),
    (
        "certificate-body-mismatch",
        "证书编号所含评价机构与签发机构不符",
    ),
    (
        "certificate-year-mismatch",
        "证书编号所含年份与发证日期不符",
    ),
    (
        "certificate-level-mismatch",
        "证书编号所含等级与证书等级不符",
    ),
    ("level-not-certifiable", "该等级不颁发职业技能等级证书"),
    ("duplicate-certificate", "证书编号已在账本上"),
    (
        "already-holds-level",
        "持证人在该职业已持有此等级或更高等级",
    ),
    (
        "level-not-reachable",
        "不能通过评价直接取得该等级：须逐级晋升",
    ),
    ("too-few-years", "从事本职业（或取得上一等级后）的年限不足"),
    (
        "attested-basis-not-allowed",
        "以学历、工作年限等证明申报不能取得该等级",
    ),
    ("direct-recognition-not-allowed", "该评价机构无直接认定权"),
    (
        "above-direct-recognition-limit",
        "直接认定超过政策允许的最高等级",
    ),
    ("empty-field", "必填项为空"),
    ("field-too-long", "字段超过长度上限"),
    ("malformed", "字段格式错误"),
    ("duplicate-body", "评价机构已经备案"),
    ("province-mismatch", "评价机构的备案省份与本账本不符"),
    (
        "invalid-validity-window",
        "备案有效期为空：起始日期须早于截止日期",
    ),
    ("duplicate-scope-occupation", "备案范围重复列出同一职业"),
    (
        "status-change-not-allowed",
        "评价机构当前状态不允许此项变更",
    ),
    ("date-before-last-change", "日期早于同类事项的上一次变更"),
    ("unknown-credential", "证书不在账本上"),
    ("already-revoked", "证书已被撤销"),
    ("not-issuer", "只有发证机构或人社部门可以撤销该证书"),
    ("revocation-before-issue", "撤销日期早于发证日期"),
    ("invalid-policy", "政策内容不合规"),
    (
        "policy-version-not-increasing",
        "政策版本号须高于已采用的版本",
    ),
    ("invalid-catalogue", "职业目录内容不合规"),
    (
        "catalogue-version-not-increasing",
        "职业目录版本号须高于现行版本",
    ),
    ("dated-in-future", "事件日期晚于账本当前日期，不能预先登记"),
    ("dated-too-far-back", "事件日期早于允许补登的期限"),
    ("unknown-contest", "竞赛未在本账本登记"),
    ("contest-result-not-allowed", "竞赛成绩不予登记"),
    ("unknown-basis", "所依据的记录不属于该持证人"),
    (
        "contest-promotion-not-allowed",
        "该竞赛成绩不符合竞赛晋升条件",
    ),
    (
        "contest-promotion-limit",
        "已达到政策允许的年度竞赛晋升次数",
    ),
    ("apprenticeship-not-allowed", "学徒培训登记不符合政策"),
    ("apprenticeship-not-completed", "学徒培训在该日期尚未完成"),
    ("apprenticeship-already-completed", "学徒培训已经完成"),
    ("appointment-not-allowed", "该机构不能评聘此等级"),
    ("invalid-term", "聘期不符合政策"),
    (
        "appointment-basis-invalid",
        "评聘所依据的等级或任职年限不符合条件",
    ),
    ("appointment-already-ended", "聘任已经结束"),
    (
        "not-appointing-body",
        "只有评聘机构或人社部门可以结束该聘任",
    ),
    (
        "conversion-not-allowed",
        "不符合职业技能等级与专业技术职称贯通条件",
    ),
    ("already-holds-title", "持证人已取得该职称"),
    ("recognition-not-allowed", "不符合互认政策"),
    (
        "recognition-of-home-credential",
        "本账本的证书无需互认：只能互认合作方的证书",
    ),
    (
        "recognition-occupation-mismatch",
        "互认的职业与政策规定的职业对应关系不符",
    ),
    ("duplicate-recognition", "该证书已被互认"),
    ("recognition-not-active", "互认已被撤回"),
    ("contest-not-joint", "该竞赛未与合作方联合举办"),
    ("contest-already-joint", "该竞赛已与合作方的另一竞赛联合"),
    (
        "certificate-kind-mismatch",
        "证书编号的系列与所发证书的种类不符（数字为职业技能等级证书，Q 为职业资格证书，Z 为专项职业能力证书）",
    ),
    (
        "not-access-controlled",
        "该职业不属于政策所列准入类职业，不能发放职业资格证书",
    ),
    (
        "qualification-not-allowed",
        "按现行政策不能发放该职业资格证书（机构类别、等级或评价方式不符）",
    ),
    ("unknown-special-ability", "现行政策未列出该专项职业能力"),
    (
        "special-ability-mismatch",
        "该专项职业能力不属于所填职业",
    ),
    (
        "special-ability-out-of-scope",
        "该职业不在评价机构的备案范围内",
    ),
    (
        "foreign-catalogue-version",
        "比照认定所依据的目录版本不是发证日期时施行的版本",
    ),
    (
        "unknown-foreign-certificate",
        "境外证书类型不在现行比照认定目录中",
    ),
    (
        "foreign-comparison-mismatch",
        "比照认定的职业或等级与目录所列不符",
    ),
    (
        "foreign-document-id-mismatch",
        "比照认定事件的编号须由境外证书类型和证书编号导出",
    ),
    ("foreign-document-used", "该境外证书已经比照认定过"),
];

/// The Chinese message of a rejection code, `None` for a code no [`Rejection`] has.
pub fn rejection_message_zh(code: &str) -> Option<&'static str> {
    REJECTION_MESSAGES_ZH
        .iter()
        .find(|(known, _)| *known == code)
        .map(|(_, message)| *message)
}

impl Rejection {
    /// The Chinese message of this rejection's rule ([`REJECTION_MESSAGES_ZH`]).
    pub fn message_zh(&self) -> &'static str {
        // The table's test keeps every code in it; the code is the fallback, never reached.
        rejection_message_zh(self.code()).unwrap_or_else(|| self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rejection_code_has_one_chinese_message_in_code_order() {
        // given every code a rejection can have, when the table is read, then it lists each
        // once, in the same order, with a message in Chinese
        let codes: Vec<&str> = REJECTION_MESSAGES_ZH
            .iter()
            .map(|(code, _)| *code)
            .collect();
        assert_eq!(codes, Rejection::ALL_CODES);
        for (code, message) in REJECTION_MESSAGES_ZH {
            assert!(
                message
                    .chars()
                    .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{code}: {message}"
            );
        }
        assert_eq!(Rejection::WeakKey.message_zh(), "公钥为弱密钥，不能使用");
        assert_eq!(rejection_message_zh("no-such-rule"), None);
    }
}
