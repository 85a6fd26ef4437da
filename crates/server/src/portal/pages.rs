//! The portal's pages (zh-CN), rendered on the server from plain view models: no script, one
//! small stylesheet inline, readable on a phone. Handlers turn node state into these views;
//! nothing here reads the ledger.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::charts::{bar_chart, group_thousands, share_chart};

/// The signed checkpoint a page's answer was read against.
#[derive(Clone, Debug)]
pub struct CheckedAgainst {
    /// The ledger's origin line, e.g. `skill-ledger/50`.
    pub origin: String,
    pub size: u64,
    /// The signer's key name from the signature line.
    pub signer: String,
    /// The checkpoint's `time` extension, as Beijing time, when present.
    pub time: Option<String>,
    /// The authority that signs the ledger's checkpoints (its entry 0), when known.
    pub authority_name: Option<String>,
}

/// Where an answer for a partner's certificate came from.
#[derive(Clone, Debug)]
pub struct MirrorNote {
    pub partner: String,
    /// How fresh the mirror is, in words, e.g. "签发于 2026-11-22 21:05:00（北京时间），12 分钟前同步".
    pub as_of: String,
    /// Entries in the partner checkpoint the mirror holds (for the technical details).
    pub held_size: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatusView {
    Valid,
    Revoked { effective: String, reason: String },
}

/// The issuing body's suspension or cancellation that covers the issue date but was logged
/// after the credential (the API's `issuer_status_warning`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuerWarningView {
    /// "暂停" or "取消".
    pub status_name: String,
    pub effective: String,
    pub reason: String,
}

/// One credential as the result page shows it.
#[derive(Clone, Debug)]
pub struct CredentialView {
    pub cert_no: String,
    /// The issuing ledger, e.g. "重庆市".
    pub ledger_label: String,
    /// The issuing authority, e.g. "重庆市人力资源和社会保障局" (the ledger's entry 0).
    pub authority_name: String,
    /// e.g. "三级/高级工".
    pub level: String,
    pub occupation_code: String,
    pub occupation_name: String,
    pub work_type: Option<String>,
    pub body_reg_no: String,
    pub body_name: String,
    pub issued: String,
    /// The route's name, e.g. "评价考核", "直接认定", "境外证书比照认定".
    pub route: String,
    /// The kind printed on the certificate: "职业技能等级证书", "职业资格证书" or
    /// "专项职业能力证书".
    pub kind_name: String,
    /// For a 专项职业能力证书: the ability, e.g. "重庆小面制作 (4-03-02-01-Z01)" (`level` is
    /// then empty: such a certificate has none).
    pub ability: Option<String>,
    /// For a foreign comparison: the foreign certificate, as (label, value) rows.
    pub foreign: Vec<(String, String)>,
    pub status: StatusView,
    pub issuer_warning: Option<IssuerWarningView>,
    pub entry_index: u64,
    pub checked: CheckedAgainst,
    pub mirror: Option<MirrorNote>,
    /// For a partner's credential this ledger recognised (互认): its recognition page.
    pub recognition: Option<RecognitionLink>,
}

/// A link from a partner credential's page to its recognition's page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecognitionLink {
    /// `/recognitions/{cert_no}`.
    pub url: String,
    /// Standing (not withdrawn).
    pub active: bool,
}

/// What a lookup found. Unknown numbers and names that do not match get the same answer, so
/// the form cannot be used to learn whether a number exists.
#[derive(Clone, Debug)]
pub enum Lookup {
    Found {
        credential: Box<CredentialView>,
        /// What the QR code encodes: the address that opens this result again, or the VC's
        /// address (`qr_code = "vc"`).
        result_url: String,
        bundle_url: String,
        /// The credential's W3C Verifiable Credential (`GET /v1/credentials/{cert_no}/vc`),
        /// when this ledger issues VCs and the credential is its own.
        vc_url: Option<String>,
        /// The QR code as inline SVG.
        qr_svg: String,
    },
    NotFound {
        cert_no: String,
        checked: Option<CheckedAgainst>,
    },
    /// The input itself is wrong (e.g. not a 22-character certificate number).
    BadInput {
        field: &'static str,
        message: String,
    },
}

#[derive(Clone, Debug)]
pub struct ScopeView {
    pub occupation_code: String,
    pub occupation_name: String,
    pub level_max: String,
}

#[derive(Clone, Debug)]
pub struct BodyView {
    pub reg_no: String,
    pub name: String,
    pub kind: String,
    pub province: String,
    /// e.g. "有效", "暂停（2025-06-01 起）".
    pub status: String,
    pub status_class: &'static str,
    pub valid_from: String,
    pub valid_until: String,
    pub audience: String,
    pub direct_recognition: bool,
    pub registered: String,
    pub entry_index: u64,
    pub scope: Vec<ScopeView>,
    pub history: Vec<String>,
    /// The log entries of the history's changes (for the technical details).
    pub change_entries: Vec<u64>,
    /// For a partner's body: read from this node's mirror of the partner's ledger.
    pub mirror: Option<MirrorNote>,
}

#[derive(Clone, Debug)]
pub struct BodySummary {
    pub reg_no: String,
    pub name: String,
    pub status: String,
    pub status_class: &'static str,
}

/// The key a checker of this ledger's offline bundles trusts.
#[derive(Clone, Debug)]
pub struct VerifierKeyView {
    /// e.g. `skill-ledger/50`.
    pub origin: String,
    /// e.g. 重庆市人力资源和社会保障局.
    pub authority_name: String,
    /// The checkpoint verifier key, C2SP signed-note vkey form (`name+keyid+key`).
    pub vkey: String,
    /// [`super::model::key_fingerprint`] of `vkey`.
    pub fingerprint: String,
}

/// One ledger's figures for the statistics page.
#[derive(Clone, Debug)]
pub struct ProvinceStats {
    pub label: String,
    pub holders_total: u64,
    pub high_skill: u64,
    pub high_skill_share: f64,
    /// Holders by their highest level, lowest level first.
    pub holders_by_level: Vec<(String, u64)>,
    /// New certificates per issue year.
    pub issued_by_year: Vec<(String, u64)>,
    /// The high-skill share at the end of each year.
    pub share_by_year: Vec<(String, f64)>,
    /// 互认: partner credentials recognised on this ledger, standing and withdrawn.
    pub recognitions_active: u64,
    pub recognitions_withdrawn: u64,
    pub checked: Option<CheckedAgainst>,
    pub mirror: Option<MirrorNote>,
}

const STYLE: &str = r#"
:root{--ink:#1d2733;--muted:#5b6776;--line:#d9dee5;--brand:#9c1c1c;--ok:#1b7a3a;--ok-bg:#e7f5ec;--bad:#b42318;--bad-bg:#fdecea;--unk:#5b6776;--unk-bg:#eef1f4;--warn:#8a5a00;--warn-bg:#fff4db}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;font:16px/1.6 -apple-system,"PingFang SC","Noto Sans CJK SC","WenQuanYi Zen Hei","Microsoft YaHei",sans-serif;color:var(--ink);background:#f6f7f9}
header{background:var(--brand);color:#fff;padding:.8rem 1rem}
header a{color:#fff;text-decoration:none}
header .site{font-weight:700;font-size:1.1rem}
nav{display:flex;flex-wrap:wrap;gap:1rem;margin-top:.3rem}
nav a{opacity:.9}
main{max-width:48rem;margin:0 auto;padding:1rem;overflow-wrap:anywhere}
section,form.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:1rem;margin:1rem 0}
h1{font-size:1.35rem;margin:.2rem 0 1rem}
h2{font-size:1.1rem;margin:.2rem 0 .6rem}
label{display:block;font-weight:600;margin:.6rem 0 .2rem}
input,select{width:100%;max-width:100%;font:inherit;padding:.55rem .6rem;border:1px solid #b8c0ca;border-radius:6px;background:#fff}
button{margin-top:1rem;font:inherit;font-weight:600;color:#fff;background:var(--brand);border:0;border-radius:6px;padding:.6rem 1.4rem}
a.button{display:inline-block;margin-top:.5rem;font-weight:600;color:#fff;background:var(--brand);border-radius:6px;padding:.6rem 1.4rem;text-decoration:none}
.hint{color:var(--muted);font-size:.9rem}
.status{border-radius:8px;padding:.8rem 1rem;font-size:1.2rem;font-weight:700;margin-bottom:1rem}
.status.valid{background:var(--ok-bg);color:var(--ok);border:1px solid var(--ok)}
.status.revoked{background:var(--bad-bg);color:var(--bad);border:1px solid var(--bad)}
.status.unknown{background:var(--unk-bg);color:var(--unk);border:1px solid var(--unk)}
.status.error,.status.warning{background:var(--warn-bg);color:var(--warn);border:1px solid var(--warn)}
.notice.warning{background:var(--warn-bg);border-left:4px solid var(--warn);padding:.4rem .8rem;margin:0 0 1rem}
dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.35rem 1rem;margin:0}
dt{color:var(--muted)}
dd{margin:0;min-width:0;overflow-wrap:anywhere}
.proof{font-size:.9rem;color:var(--muted);margin-top:1rem}
.qr{display:flex;gap:1rem;align-items:center;flex-wrap:wrap;margin-top:1rem}
.qr svg{width:9rem;height:9rem;flex:none}
.qr div{flex:1 1 12rem;min-width:0}
code{overflow-wrap:anywhere;word-break:break-all}
pre.vkey{white-space:pre-wrap;word-break:break-all;background:#f6f7f9;border:1px solid var(--line);border-radius:6px;padding:.6rem;font-size:.9rem}
.fingerprint code{font-size:1.05rem;letter-spacing:.03em}
details{margin-top:1rem}
summary{cursor:pointer;color:var(--muted)}
.badge{display:inline-block;border-radius:4px;padding:0 .4rem;font-size:.85rem}
.badge.active{background:var(--ok-bg);color:var(--ok)}
.badge.suspended{background:var(--warn-bg);color:var(--warn)}
.badge.cancelled{background:var(--bad-bg);color:var(--bad)}
table{width:100%;border-collapse:collapse}
td,th{text-align:left;padding:.35rem .3rem;border-bottom:1px solid var(--line);overflow-wrap:normal;word-break:normal}
th{white-space:nowrap}
.scroll{max-width:100%;overflow-x:auto;-webkit-overflow-scrolling:touch}
.scroll table.wide{min-width:36rem}
td code{white-space:nowrap;word-break:normal}
.muted{color:var(--muted)}
ul.steps{padding-left:1.2rem;margin:.2rem 0}
svg{max-width:100%}
.figures{display:flex;flex-wrap:wrap;gap:1rem}
.figure{flex:1 1 10rem}
.figure b{display:block;font-size:1.5rem}
svg.chart{width:100%;height:auto}
svg .bar{fill:#c0392b}
svg .label,svg .value,svg .axis,svg .legend,svg .empty{font-size:13px;fill:#1d2733}
svg .grid{stroke:#e3e7ec}
svg .line{fill:none;stroke-width:2.5}
svg .series-0{stroke:#c0392b;fill:#c0392b}
svg .series-1{stroke:#1f6fb2;fill:#1f6fb2}
svg .series-2{stroke:#1b7a3a;fill:#1b7a3a}
svg .series-3{stroke:#8a5a00;fill:#8a5a00}
svg polyline.line{fill:none}
footer{max-width:48rem;margin:0 auto;padding:1rem;color:var(--muted);font-size:.85rem}
@media (max-width:30rem){main{padding:.6rem}section,form.card{padding:.8rem}dl{grid-template-columns:minmax(0,1fr);gap:0}dt{margin-top:.45rem}}
"#;

/// The page frame: header with navigation, the content, a footer naming the ledger.
pub fn layout(title: &str, ledger_label: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · 川渝技能人才评价证书账本" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    a.site href="/" { "川渝技能人才评价证书账本" }
                    span { " · " (ledger_label) "节点" }
                    nav {
                        a href="/" { "证书查询" }
                        a href="/person" { "个人查询" }
                        a href="/stats" { "统计" }
                        a href="/bodies" { "评价机构" }
                    }
                }
                main { (content) }
                footer {
                    "本页面由证书账本直接生成，所列数据均有发证部门的数字签名，可离线核验。"
                    "证书持有人的姓名和证件号码不以明文保存，查询时不显示您未填写的个人信息。"
                }
            }
        }
    }
}

fn lookup_form(cert_no: &str, name: &str) -> Markup {
    html! {
        // Posted, so the name and document number are in no address (browser history,
        // proxy logs); the result page is the answer.
        form.card method="post" action="/query" {
            h1 { "职业技能等级证书查询" }
            label for="cert_no" { "证书编号" }
            input #cert_no name="cert_no" value=(cert_no) required
                maxlength="22" autocomplete="off" placeholder="22 位证书编号，如 Y000050000101253000070";
            label for="name" { "姓名" }
            input #name name="name" value=(name) required maxlength="64" autocomplete="off";
            label for="id_no" { "身份证件号码（选填）" }
            input #id_no name="id_no" maxlength="32" autocomplete="off";
            p.hint { "证书编号与姓名须同时一致方显示结果；可查询重庆、四川两地颁发的证书。" }
            button type="submit" { "查询" }
        }
    }
}

/// 证书查询: the form, with a certificate number filled in (or none).
pub fn lookup_page(ledger_label: &str, cert_no: &str) -> Markup {
    layout("证书查询", ledger_label, lookup_form(cert_no, ""))
}

/// What the answer was checked against, in words for an employer: who signed and when.
fn checked_line(checked: &CheckedAgainst) -> Markup {
    html! {
        p.proof {
            "核验依据：本结果已与"
            @if let Some(authority) = &checked.authority_name { (authority) } @else { "发证部门" }
            "签名的证书账本核对"
            @if let Some(time) = &checked.time { "，签名时间 " (time) }
            "。"
        }
    }
}

/// The checkpoint's particulars, for the collapsed technical details.
fn checkpoint_details(checked: &CheckedAgainst) -> Markup {
    html! {
        dt { "账本" } dd { code { (checked.origin) } }
        dt { "检查点条目数" } dd { (group_thousands(checked.size)) }
        dt { "签名密钥" } dd { code { (checked.signer) } }
    }
}

/// The result of a lookup, with the form again below it.
pub fn result_page(ledger_label: &str, lookup: &Lookup, cert_no: &str, name: &str) -> Markup {
    let content = html! {
        section #result {
            @match lookup {
                Lookup::Found { credential, result_url, bundle_url, vc_url, qr_svg } => {
                    @match (&credential.status, &credential.issuer_warning) {
                        (StatusView::Valid, None) => {
                            div.status.valid data-status="valid" { "✔ 证书有效" }
                        }
                        (StatusView::Valid, Some(warning)) => {
                            div.status.warning data-status="valid" data-warning="retroactive-body-status" {
                                "⚠ 证书未撤销，但发证时评价机构已被" (warning.status_name) "备案"
                            }
                        }
                        (StatusView::Revoked { effective, reason }, _) => {
                            div.status.revoked data-status="revoked" { "✘ 证书已撤销" }
                            p { "撤销日期：" (effective) "；原因：" (reason) }
                        }
                    }
                    @if let Some(warning) = &credential.issuer_warning {
                        div.notice.warning data-warning="retroactive-body-status" {
                            p {
                                "发证机构" (credential.body_name) "的备案自 " (warning.effective) " 起被"
                                (warning.status_name) "（原因：" (warning.reason) "）。这一决定在本证书记入账本之后才登记，"
                                "而本证书的发证日期 " (credential.issued) " 在" (warning.status_name) "期间内："
                                "按现有记录，该机构发证时已无评价发证资格。"
                            }
                            p {
                                "追溯性的暂停或取消不会自动撤销证书，本证书仍记录在账本中；"
                                "是否继续认可，请向发证地人力资源社会保障部门核实后再作判断。"
                            }
                        }
                    }
                    dl {
                        dt { "证书编号" } dd { code { (credential.cert_no) } }
                        dt { "姓名" } dd { (name) }
                        dt { "职业（工种）" } dd {
                            (credential.occupation_name) " (" (credential.occupation_code) ")"
                            @if let Some(work_type) = &credential.work_type { " · " (work_type) }
                        }
                        dt { "证书种类" } dd { (credential.kind_name) }
                        @if let Some(ability) = &credential.ability {
                            dt { "专项职业能力" } dd { (ability) }
                        } @else {
                            dt { "技能等级" } dd { (credential.level) }
                        }
                        dt { "评价方式" } dd { (credential.route) }
                        @for (label, value) in &credential.foreign {
                            dt { (label) } dd { (value) }
                        }
                        dt { "发证日期" } dd { (credential.issued) }
                        dt { "评价机构" } dd {
                            a href={ "/bodies/" (credential.body_reg_no) } { (credential.body_name) }
                            " (" (credential.body_reg_no) ")"
                        }
                        dt { "发证地" } dd { (credential.ledger_label) }
                        dt { "发证部门" } dd { (credential.authority_name) }
                        @if let Some(recognition) = &credential.recognition {
                            dt { "互认" } dd {
                                a.recognition href=(recognition.url) {
                                    @if recognition.active { "已获本地互认（查看互认详情）" } @else { "本地互认已撤回（查看详情）" }
                                }
                            }
                        }
                    }
                    @if let Some(mirror) = &credential.mirror {
                        p.proof { "本证书由" (mirror.partner) "颁发，查询结果来自本节点保存的" (mirror.partner) "证书账本副本（镜像，" (mirror.as_of) "）。" }
                    }
                    (checked_line(&credential.checked))
                    div.qr {
                        (PreEscaped(qr_svg))
                        div {
                            @if credential.ability.is_some() {
                                p.hint { "专项职业能力证书不设等级，暂不提供离线核验包与可验证凭证，请以联网查询结果为准。" }
                            } @else if bundle_url.is_empty() {
                                p.hint { "离线核验包请到发证地的证书查询网站下载。" }
                            } @else {
                                // Posted with the name typed above: the bundle then binds its
                                // holder, so whoever receives it can check the name offline.
                                form.bundle method="post" action=(bundle_url) {
                                    input type="hidden" name="cert_no" value=(credential.cert_no);
                                    input type="hidden" name="name" value=(name);
                                    button type="submit" { "下载离线核验包" }
                                }
                                p { a href="/verifier-key" { "核验公钥及其指纹" } "（离线核验时需要）" }
                            }
                            @if let Some(vc_url) = vc_url {
                                p {
                                    a.button.vc href=(vc_url) download={ (credential.cert_no) ".vc.json" } { "下载可验证凭证" }
                                }
                                p.hint {
                                    "可验证凭证（W3C Verifiable Credential 2.0）可导入数字钱包或用人单位的人事系统，用通用的验证工具离线核验签名；"
                                    "其中不含姓名和身份证件号码，撤销状态见凭证所指的状态列表。"
                                }
                            }
                            p.hint {
                                "离线核验包可在无网络时证明本证书已记入发证部门的证书账本，以及截至包内签名时间的证书状态（有效或已撤销），并可核对持证人姓名；核验时须使用发证部门的公钥。"
                                "离线核验无法得知此后的撤销，请以联网查询结果为准。"
                            }
                            @if result_url.ends_with("/vc") {
                                p.hint { "扫描二维码可取得本证书的可验证凭证（数字钱包可直接导入）：" br; code.result-url { (result_url) } }
                            } @else {
                                p.hint { "扫描二维码可打开本证书的查询页（已填好证书编号，姓名需重新填写）：" br; code.result-url { (result_url) } }
                            }
                        }
                    }
                    details.technical {
                        summary { "技术细节" }
                        dl {
                            dt { "账本条目" } dd { "#" (credential.entry_index) }
                            (checkpoint_details(&credential.checked))
                            @if let Some(size) = credential.mirror.as_ref().and_then(|mirror| mirror.held_size) {
                                dt { "镜像检查点条目数" } dd { (group_thousands(size)) }
                            }
                        }
                        p.hint {
                            "离线核验包含证书条目、默克尔包含证明与签名检查点（C2SP tlog-proof），命令行核验："
                            code { "skill-ledger verify-bundle 核验包文件 --trust 公钥文件" }
                        }
                    }
                }
                Lookup::NotFound { cert_no, checked } => {
                    div.status.unknown data-status="unknown" { "未查询到相关证书信息" }
                    p { "未找到编号为 " code { (cert_no) } " 且姓名一致的证书。请核对证书编号与姓名后重试。" }
                    @if let Some(checked) = checked {
                        (checked_line(checked))
                        details.technical { summary { "技术细节" } dl { (checkpoint_details(checked)) } }
                    }
                }
                Lookup::BadInput { field, message } => {
                    div.status.error data-status="error" data-field=(field) { "输入有误" }
                    p { (message) }
                }
            }
        }
        (lookup_form(cert_no, name))
    };
    layout("查询结果", ledger_label, content)
}

/// 评价机构: one body.
pub fn body_page(ledger_label: &str, body: &BodyView) -> Markup {
    let content = html! {
        section {
            h1 { (body.name) }
            p { span class={ "badge " (body.status_class) } { (body.status) } }
            dl {
                dt { "备案编号" } dd { code { (body.reg_no) } }
                dt { "机构类型" } dd { (body.kind) }
                dt { "所在地" } dd { (body.province) }
                dt { "评价对象" } dd { (body.audience) }
                dt { "备案有效期" } dd { (body.valid_from) " 至 " (body.valid_until) }
                dt { "直接认定权" } dd { @if body.direct_recognition { "有" } @else { "无" } }
                dt { "备案日期" } dd { (body.registered) }
            }
        }
        section {
            h2 { "评价范围" }
            div.scroll { table {
                thead { tr { th { "职业编码" } th { "职业（工种）" } th { "最高等级" } } }
                tbody {
                    @for item in &body.scope {
                        tr { td { code { (item.occupation_code) } } td { (item.occupation_name) } td { (item.level_max) } }
                    }
                }
            } }
        }
        @if let Some(mirror) = &body.mirror {
            p.proof { "本机构在" (mirror.partner) "备案，信息来自本节点保存的" (mirror.partner) "证书账本副本（镜像，" (mirror.as_of) "）。" }
        }
        @if !body.history.is_empty() {
            section {
                h2 { "变更记录" }
                ul { @for line in &body.history { li { (line) } } }
            }
        }
        details.technical {
            summary { "技术细节" }
            dl {
                dt { "备案登记的账本条目" } dd { "#" (body.entry_index) }
                @if !body.change_entries.is_empty() {
                    dt { "变更登记的账本条目" } dd {
                        @for (position, entry) in body.change_entries.iter().enumerate() {
                            @if position > 0 { "、" }
                            "#" (entry)
                        }
                    }
                }
            }
        }
    };
    layout(&body.name, ledger_label, content)
}

/// 评价机构: all bodies of the ledger.
pub fn bodies_page(ledger_label: &str, bodies: &[BodySummary]) -> Markup {
    let content = html! {
        section {
            h1 { "评价机构" }
            @if bodies.is_empty() { p { "本账本尚无备案的评价机构。" } }
            @else {
                div.scroll { table {
                    thead { tr { th { "备案编号" } th { "名称" } th { "状态" } } }
                    tbody {
                        @for body in bodies {
                            tr {
                                td { a href={ "/bodies/" (body.reg_no) } { code { (body.reg_no) } } }
                                td { (body.name) }
                                td { span class={ "badge " (body.status_class) } { (body.status) } }
                            }
                        }
                    }
                } }
            }
        }
    };
    layout("评价机构", ledger_label, content)
}

/// 统计: the figures the regional plans track, one block per ledger, with a share chart that
/// puts the ledgers side by side.
pub fn stats_page(ledger_label: &str, provinces: &[ProvinceStats]) -> Markup {
    let mut years: Vec<String> = provinces
        .iter()
        .flat_map(|province| province.share_by_year.iter().map(|(year, _)| year.clone()))
        .collect();
    years.sort();
    years.dedup();
    let series: Vec<(String, Vec<Option<f64>>)> = provinces
        .iter()
        .map(|province| {
            let values = years
                .iter()
                .map(|year| {
                    province
                        .share_by_year
                        .iter()
                        .find(|(y, _)| y == year)
                        .map(|(_, share)| *share)
                })
                .collect();
            (province.label.clone(), values)
        })
        .collect();
    let content = html! {
        h1 { "技能人才统计" }
        section {
            h2 { "高技能人才占比（高级工及以上，按年末）" }
            (PreEscaped(share_chart("高技能人才占比", &years, &series)))
        }
        @for province in provinces {
            section.province {
                h2 { (province.label) }
                div.figures {
                    div.figure { "持证人数" b { (group_thousands(province.holders_total)) } }
                    div.figure { "高技能人才" b { (group_thousands(province.high_skill)) } }
                    div.figure { "高技能人才占比" b { (format!("{:.1}%", province.high_skill_share * 100.0)) } }
                }
                h2 { "互认" }
                div.figures {
                    div.figure { "互认的外省证书" b { (group_thousands(province.recognitions_active)) } }
                    div.figure { "已撤回的互认" b { (group_thousands(province.recognitions_withdrawn)) } }
                }
                h2 { "持证人数（按最高等级）" }
                (PreEscaped(bar_chart(&format!("{}持证人数（按最高等级）", province.label), &province.holders_by_level)))
                h2 { "每年新发证书" }
                (PreEscaped(bar_chart(&format!("{}每年新发证书", province.label), &province.issued_by_year)))
                @if let Some(mirror) = &province.mirror {
                    p.proof { "数据来自本节点保存的" (mirror.partner) "证书账本副本（镜像，" (mirror.as_of) "）。" }
                }
                @if let Some(checked) = &province.checked {
                    (checked_line(checked))
                    details.technical {
                        summary { "技术细节" }
                        dl {
                            (checkpoint_details(checked))
                            @if let Some(size) = province.mirror.as_ref().and_then(|mirror| mirror.held_size) {
                                dt { "镜像检查点条目数" } dd { (group_thousands(size)) }
                            }
                        }
                    }
                }
            }
        }
    };
    layout("统计", ledger_label, content)
}

/// 核验公钥: the key offline bundles are checked with, its fingerprint, and how to use them.
pub fn verifier_key_page(ledger_label: &str, key: &VerifierKeyView) -> Markup {
    let content = html! {
        section {
            h1 { "离线核验公钥" }
            p {
                "本节点的证书账本由" (key.authority_name) "签名。离线核验包（证书查询结果页可下载）"
                "中的签名须用下面的公钥核验：核验通过，说明该证书确已记入" (key.authority_name)
                "的证书账本，且包内记录未被改动。"
            }
            h2 { "公钥" }
            pre.vkey { (key.vkey) }
            p { a href="/verifier-key.txt" download { "下载公钥文件" } }
            h2 { "公钥指纹（SHA-256）" }
            p.fingerprint { code { (key.fingerprint) } }
            p.hint {
                "指纹可逐组念出，便于通过电话或公告等另一渠道与发证部门核对。"
                "请勿仅凭本页核对：若本页被冒充，公钥与指纹都可能是伪造的。"
            }
        }
        section {
            h2 { "如何核验离线核验包" }
            ol {
                li { "在证书查询结果页下载该证书的离线核验包。" }
                li { "通过另一可信渠道（如" (key.authority_name) "公布的信息）确认上面的公钥指纹无误。" }
                li { "用支持本账本格式的核验程序，以该公钥核验离线核验包；无需联网。" }
                li { "核验通过只说明下载时证书已记入账本；此后的撤销离线无法得知，请以联网查询结果为准。" }
            }
            details {
                summary { "技术细节" }
                p.hint {
                    "账本 " code { (key.origin) } " 的检查点是 C2SP signed-note 格式，公钥为其 vkey 形式"
                    "（名称+密钥标识+Base64 公钥），指纹为公钥文本（UTF-8，不含换行）的 SHA-256。"
                    "命令行核验：" code { "skill-ledger verify-bundle --trust 公钥文件 核验包文件" }
                }
            }
        }
    };
    layout("离线核验公钥", ledger_label, content)
}

/// One occupation: its name from the catalogue and its code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OccupationView {
    pub code: String,
    /// e.g. "车工", or "（目录外职业）".
    pub name: String,
}

fn occupation(occupation: &OccupationView) -> Markup {
    html! { (occupation.name) " " span.muted { "(" (occupation.code) ")" } }
}

/// The highest level a person holds now in one occupation (over every route).
#[derive(Clone, Debug)]
pub struct CurrentLevelView {
    pub occupation: OccupationView,
    /// e.g. "三级/高级工", "首席技师".
    pub level: String,
}

/// One credential of a person's history.
#[derive(Clone, Debug)]
pub struct HoldingView {
    pub cert_no: String,
    pub occupation: OccupationView,
    pub level: String,
    pub issued: String,
    /// e.g. "评价考核", "直接认定", "竞赛晋升", "职称贯通", "境外证书比照认定", "互认".
    pub route: String,
    /// "职业技能等级证书" or "职业资格证书".
    pub kind_name: String,
    pub revoked: bool,
    /// A credential it was built on was revoked: it stands, marked for review.
    pub basis_revoked: bool,
    /// A partner's credential this ledger recognised: its recognition page.
    pub recognition_url: Option<String>,
}

/// One 专项职业能力证书 of a person.
#[derive(Clone, Debug)]
pub struct SpecialAbilityRow {
    pub cert_no: String,
    /// e.g. "重庆小面制作".
    pub ability: String,
    pub occupation: OccupationView,
    pub issued: String,
    pub body_name: String,
    pub revoked: bool,
}

/// One post (评聘: 特级技师, 首席技师) of a person.
#[derive(Clone, Debug)]
pub struct PostView {
    pub level: String,
    pub occupation: OccupationView,
    pub body_reg_no: String,
    pub body_name: String,
    /// e.g. "2023-06-01 至 2028-05-31".
    pub term: String,
    /// e.g. "在聘", "2025-03-01 离岗".
    pub status: String,
    pub current: bool,
}

/// One recognition (互认) of a partner credential, as a person's page lists it.
#[derive(Clone, Debug)]
pub struct RecognitionSummary {
    pub cert_no: String,
    /// `/recognitions/{cert_no}`.
    pub url: String,
    /// The issuing province, e.g. "四川省".
    pub origin_label: String,
    pub partner_occupation: OccupationView,
    pub occupation: OccupationView,
    pub level: String,
    /// The day the recognition was recorded.
    pub date: String,
    pub active: bool,
    /// e.g. "2025-11-30 撤回：发证地已撤销该证书".
    pub withdrawn: Option<String>,
}

/// One step a person may apply for next, and from when.
#[derive(Clone, Debug)]
pub struct NextStepView {
    /// What, e.g. "车工 (6-18-01-01) 二级/技师", "工程技术系列 车辆工程 工程师".
    pub target: String,
    /// How, e.g. "评价", "特级技师聘任", "职称贯通".
    pub route: String,
    pub earliest: String,
    /// The earliest date is today or past.
    pub ready: bool,
    /// What it builds on, in Chinese.
    pub basis: String,
}

/// A person's page: everything the ledger holds under the pseudonym of the document typed.
#[derive(Clone, Debug)]
pub struct PersonPageView {
    /// The name typed (it matched a credential's commitment).
    pub name: String,
    /// The document number typed, masked (first 3 and last 4 characters shown).
    pub id_masked: String,
    pub current: Vec<CurrentLevelView>,
    pub holdings: Vec<HoldingView>,
    pub posts: Vec<PostView>,
    pub recognitions: Vec<RecognitionSummary>,
    /// 专项职业能力证书: abilities without a level.
    pub special_abilities: Vec<SpecialAbilityRow>,
    pub next_steps: Vec<NextStepView>,
    /// The policy version the next steps are judged by.
    pub policy_version: Option<u32>,
    pub checked: Option<CheckedAgainst>,
}

/// What a person lookup found. An unknown person and a name that matches none of the
/// person's credentials get the same answer.
#[derive(Clone, Debug)]
pub enum PersonLookup {
    Found(Box<PersonPageView>),
    NotFound {
        checked: Option<CheckedAgainst>,
    },
    BadInput {
        field: &'static str,
        message: String,
    },
}

/// The identity-document types the person form offers: (code, name).
pub const ID_TYPES: [(&str, &str); 4] = [
    ("resident_id", "居民身份证"),
    ("hmt", "港澳台居民居住证/通行证"),
    ("passport", "护照"),
    ("foreign_permanent", "外国人永久居留身份证"),
];

fn person_form(name: &str, id_type: &str) -> Markup {
    html! {
        // Posted: the document number and the name are in no address.
        form.card.person method="post" action="/person" {
            h1 { "个人技能档案查询" }
            label for="id_type" { "证件类型" }
            select #id_type name="id_type" {
                @for (code, label) in ID_TYPES {
                    option value=(code) selected[code == id_type] { (label) }
                }
            }
            label for="id_no" { "身份证件号码" }
            input #id_no name="id_no" required maxlength="32" autocomplete="off"
                placeholder="18 位居民身份证号码";
            label for="name" { "姓名" }
            input #name name="name" value=(name) required maxlength="64" autocomplete="off";
            p.hint {
                "姓名须与本人任一证书上的姓名一致方显示结果。证件号码仅在服务器上换算为匿名标识用于查找，"
                "不保存、不记录、不显示；账本中也没有明文的姓名和证件号码。"
            }
            button type="submit" { "查询" }
        }
    }
}

/// 个人查询: the form.
pub fn person_lookup_page(ledger_label: &str) -> Markup {
    layout("个人查询", ledger_label, person_form("", "resident_id"))
}

/// 个人查询: the answer to the posted form, with the form again below it.
pub fn person_result_page(
    ledger_label: &str,
    lookup: &PersonLookup,
    name: &str,
    id_type: &str,
) -> Markup {
    let content = html! {
        section #person {
            @match lookup {
                PersonLookup::Found(person) => {
                    div.status.valid data-status="found" { "✔ 已查询到本人的技能档案" }
                    dl {
                        dt { "姓名" } dd { (person.name) }
                        dt { "证件号码" } dd { code { (person.id_masked) } }
                    }
                    h2 { "当前等级" }
                    @if person.current.is_empty() {
                        p { "目前没有有效的技能等级。" }
                    } @else {
                        div.scroll { table.current {
                            thead { tr { th { "职业（工种）" } th { "当前等级" } } }
                            tbody { @for item in &person.current {
                                tr { td { (occupation(&item.occupation)) } td { b { (item.level) } } }
                            } }
                        } }
                    }
                    (checked_line_or_nothing(person.checked.as_ref()))
                }
                PersonLookup::NotFound { checked } => {
                    div.status.unknown data-status="unknown" { "未查询到相关个人记录" }
                    p { "未找到与所填证件号码和姓名一致的记录。请核对证件类型、证件号码与姓名（须与证书上的姓名一致）后重试。" }
                    (checked_line_or_nothing(checked.as_ref()))
                }
                PersonLookup::BadInput { field, message } => {
                    div.status.error data-status="error" data-field=(field) { "输入有误" }
                    p { (message) }
                }
            }
        }
        @if let PersonLookup::Found(person) = lookup {
            (person_sections(person))
        }
        (person_form(name, id_type))
    };
    layout("个人技能档案", ledger_label, content)
}

fn checked_line_or_nothing(checked: Option<&CheckedAgainst>) -> Markup {
    html! { @if let Some(checked) = checked { (checked_line(checked)) } }
}

fn person_sections(person: &PersonPageView) -> Markup {
    html! {
        section #history {
            h2 { "证书记录" }
            @if person.holdings.is_empty() {
                p { "没有证书记录。" }
            } @else {
                div.scroll { table.wide {
                    thead { tr { th { "证书编号" } th { "证书种类" } th { "职业（工种）" } th { "等级" } th { "方式" } th { "发证日期" } th { "状态" } } }
                    tbody { @for holding in &person.holdings {
                        tr data-cert=(holding.cert_no) {
                            td {
                                // The certificate's own page: the lookup form with the number
                                // filled in (never the name).
                                a.cert href={ "/?cert_no=" (holding.cert_no) } { code { (holding.cert_no) } }
                            }
                            td { (holding.kind_name) }
                            td { (occupation(&holding.occupation)) }
                            td { (holding.level) }
                            td {
                                (holding.route)
                                @if let Some(url) = &holding.recognition_url {
                                    " " a.recognition href=(url) { "互认详情" }
                                }
                            }
                            td { (holding.issued) }
                            td {
                                @if holding.revoked {
                                    span.badge.cancelled { "已撤销" }
                                } @else {
                                    span.badge.active { "有效" }
                                }
                                @if holding.basis_revoked {
                                    " " span.badge.suspended title="所依据的证书已被撤销，本证书仍记录在账本中，待复核" { "依据已撤销" }
                                }
                            }
                        }
                    } }
                } }
                p.hint { "点击证书编号打开该证书的查询页（已填好编号），填写姓名即可查看证书详情、下载离线核验包。" }
            }
        }
        @if !person.special_abilities.is_empty() {
            section #special-abilities {
                h2 { "专项职业能力证书" }
                div.scroll { table.wide {
                    thead { tr { th { "证书编号" } th { "专项职业能力" } th { "所属职业" } th { "评价机构" } th { "发证日期" } th { "状态" } } }
                    tbody { @for row in &person.special_abilities {
                        tr data-cert=(row.cert_no) {
                            td { a.cert href={ "/?cert_no=" (row.cert_no) } { code { (row.cert_no) } } }
                            td { (row.ability) }
                            td { (occupation(&row.occupation)) }
                            td { (row.body_name) }
                            td { (row.issued) }
                            td {
                                @if row.revoked { span.badge.cancelled { "已撤销" } } @else { span.badge.active { "有效" } }
                            }
                        }
                    } }
                } }
                p.hint { "专项职业能力证书证明一项专门能力，不设等级，不计入技能等级。" }
            }
        }
        @if !person.posts.is_empty() {
            section #posts {
                h2 { "岗位聘任" }
                div.scroll { table.wide {
                    thead { tr { th { "岗位等级" } th { "职业（工种）" } th { "聘任单位" } th { "聘期" } th { "状态" } } }
                    tbody { @for post in &person.posts {
                        tr {
                            td { (post.level) }
                            td { (occupation(&post.occupation)) }
                            td { a href={ "/bodies/" (post.body_reg_no) } { (post.body_name) } }
                            td { (post.term) }
                            td {
                                span class={ "badge " @if post.current { "active" } @else { "cancelled" } } { (post.status) }
                            }
                        }
                    } }
                } }
            }
        }
        @if !person.recognitions.is_empty() {
            section #recognitions {
                h2 { "互认" }
                div.scroll { table.wide {
                    thead { tr { th { "证书编号" } th { "发证地" } th { "原职业 → 本地职业" } th { "等级" } th { "互认日期" } th { "状态" } } }
                    tbody { @for recognition in &person.recognitions {
                        tr data-cert=(recognition.cert_no) {
                            td { a.recognition href=(recognition.url) { code { (recognition.cert_no) } } }
                            td { (recognition.origin_label) }
                            td { (occupation(&recognition.partner_occupation)) " → " (occupation(&recognition.occupation)) }
                            td { (recognition.level) }
                            td { (recognition.date) }
                            td {
                                @if recognition.active {
                                    span.badge.active { "互认有效" }
                                } @else {
                                    span.badge.cancelled { "已撤回" }
                                    @if let Some(withdrawn) = &recognition.withdrawn { br; span.hint { (withdrawn) } }
                                }
                            }
                        }
                    } }
                } }
            }
        }
        section #next {
            h2 { "下一步可申报" }
            @if person.next_steps.is_empty() {
                p { "按现行政策，暂无可申报的下一步。" }
            } @else {
                ul.steps { @for step in &person.next_steps {
                    li {
                        b { (step.target) } "（" (step.route) "）："
                        @if step.ready { "自 " (step.earliest) " 起已可申报" } @else { "最早 " (step.earliest) " 起可申报" }
                        br; span.hint { "依据：" (step.basis) }
                    }
                } }
                p.hint {
                    "按账本中现行的评价政策"
                    @if let Some(version) = person.policy_version { "（第 " (version) " 版）" }
                    "推算，实际申报以评价机构和人力资源社会保障部门的要求为准。"
                }
            }
        }
        @if let Some(checked) = &person.checked {
            details.technical {
                summary { "技术细节" }
                dl { (checkpoint_details(checked)) }
                p.hint { "账本以证件号码的密钥哈希（匿名标识）归集个人记录，姓名以与证书编号绑定的承诺值保存。" }
            }
        }
    }
}

/// A recognition's withdrawal, in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WithdrawnView {
    pub effective: String,
    /// e.g. "发证地已撤销该证书", "本地人力资源社会保障部门决定：……".
    pub reason: String,
    pub entry_index: u64,
}

/// 互认: a partner credential recognised on this ledger.
#[derive(Clone, Debug)]
pub struct RecognitionPageView {
    pub cert_no: String,
    /// The origin ledger, e.g. `skill-ledger/51`, and its province.
    pub origin: String,
    pub origin_label: String,
    /// The authority that signs the origin ledger (the mirror's entry 0), when known.
    pub origin_authority: Option<String>,
    pub origin_entry_index: u64,
    pub level: String,
    pub partner_occupation: OccupationView,
    pub occupation: OccupationView,
    pub issued: String,
    /// The day this ledger recorded the recognition.
    pub date: String,
    /// This ledger's authority (who recognised it).
    pub authority_name: String,
    pub withdrawn: Option<WithdrawnView>,
    /// The credential as the mirror holds it now: revoked at the origin.
    pub revoked_at_origin: Option<bool>,
    /// The mirror of the origin ledger: its held checkpoint's time and how fresh it is.
    pub mirror: Option<MirrorNote>,
    /// The origin checkpoint the mirror holds.
    pub origin_checked: Option<CheckedAgainst>,
    /// This ledger's checkpoint the recognition was read under.
    pub checked: Option<CheckedAgainst>,
    /// The recognition's entry on this ledger.
    pub entry_index: u64,
}

/// 互认: one recognised partner credential.
pub fn recognition_page(ledger_label: &str, view: &RecognitionPageView) -> Markup {
    let content = html! {
        section #recognition {
            h1 { "互认证书" }
            @match &view.withdrawn {
                None => { div.status.valid data-status="active" { "✔ 互认有效" } }
                Some(withdrawn) => {
                    div.status.revoked data-status="withdrawn" { "✘ 互认已撤回" }
                    p { "撤回日期：" (withdrawn.effective) "；原因：" (withdrawn.reason) }
                }
            }
            dl {
                dt { "证书编号" } dd { a.cert href={ "/?cert_no=" (view.cert_no) } { code { (view.cert_no) } } }
                dt { "发证地" } dd { (view.origin_label) }
                @if let Some(authority) = &view.origin_authority { dt { "发证部门" } dd { (authority) } }
                dt { "技能等级" } dd { (view.level) }
                dt { "发证地职业" } dd { (occupation(&view.partner_occupation)) }
                dt { "对应本地职业" } dd { (occupation(&view.occupation)) }
                dt { "发证日期" } dd { (view.issued) }
                dt { "互认日期" } dd { (view.date) }
                dt { "互认部门" } dd { (view.authority_name) }
                @if let Some(revoked) = view.revoked_at_origin {
                    dt { "发证地状态" } dd {
                        @if revoked { span.badge.cancelled { "发证地已撤销" } } @else { span.badge.active { "发证地有效" } }
                    }
                }
            }
            @if let Some(mirror) = &view.mirror {
                p.proof.freshness {
                    "发证地信息来自本节点保存的" (mirror.partner) "证书账本副本（镜像，" (mirror.as_of) "）。"
                }
            }
            @if let Some(checked) = &view.checked { (checked_line(checked)) }
            p.hint { "本页不显示持证人的姓名等个人信息；核对持证人请打开证书编号，在证书查询页填写姓名。" }
            details.technical {
                summary { "技术细节" }
                dl {
                    dt { "发证地账本" } dd { code { (view.origin) } }
                    dt { "发证地账本条目" } dd { "#" (view.origin_entry_index) }
                    @if let Some(origin) = &view.origin_checked {
                        dt { "镜像检查点条目数" } dd { (group_thousands(origin.size)) }
                        @if let Some(time) = &origin.time { dt { "镜像检查点签名时间" } dd { (time) } }
                    }
                    dt { "互认登记的账本条目" } dd { "#" (view.entry_index) }
                    @if let Some(withdrawn) = &view.withdrawn { dt { "撤回登记的账本条目" } dd { "#" (withdrawn.entry_index) } }
                    @if let Some(checked) = &view.checked { (checkpoint_details(checked)) }
                }
            }
        }
    };
    layout("互认证书", ledger_label, content)
}

/// A plain error page (404 and the like) in the portal's frame.
pub fn message_page(ledger_label: &str, title: &str, message: &str) -> Markup {
    layout(
        title,
        ledger_label,
        html! { section { h1 { (title) } p { (message) } p { a href="/" { "返回证书查询" } } } },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked() -> CheckedAgainst {
        CheckedAgainst {
            origin: "skill-ledger/50".to_string(),
            size: 4361,
            signer: "skill-ledger/50".to_string(),
            time: Some("2026-11-22 21:05:00（北京时间）".to_string()),
            authority_name: Some("重庆市人力资源和社会保障局".to_string()),
        }
    }

    fn credential(status: StatusView) -> CredentialView {
        CredentialView {
            cert_no: "Y000050000102253000070".to_string(),
            ledger_label: "重庆市".to_string(),
            authority_name: "重庆市人力资源和社会保障局".to_string(),
            level: "三级/高级工".to_string(),
            occupation_code: "6-31-01-03".to_string(),
            occupation_name: "电工".to_string(),
            work_type: None,
            body_reg_no: "Y000050000102".to_string(),
            body_name: "重庆示例电力设备有限公司（演示）".to_string(),
            issued: "2025-05-12".to_string(),
            route: "评价考核".to_string(),
            kind_name: "职业技能等级证书".to_string(),
            ability: None,
            foreign: Vec::new(),
            status,
            issuer_warning: None,
            entry_index: 4000,
            checked: checked(),
            mirror: None,
            recognition: None,
        }
    }

    fn found(status: StatusView) -> Lookup {
        Lookup::Found {
            credential: Box::new(credential(status)),
            result_url: "http://127.0.0.1:8080/?cert_no=Y000050000102253000070".to_string(),
            bundle_url: "/bundle".to_string(),
            vc_url: Some("/v1/credentials/Y000050000102253000070/vc".to_string()),
            qr_svg: "<svg id=\"qr\"></svg>".to_string(),
        }
    }

    #[test]
    fn a_valid_result_shows_status_details_checkpoint_bundle_and_qr() {
        let page = result_page(
            "重庆",
            &found(StatusView::Valid),
            "Y000050000102253000070",
            "张三",
        )
        .into_string();
        assert!(
            page.starts_with("<!DOCTYPE html><html lang=\"zh-CN\">"),
            "{page}"
        );
        assert!(page.contains("data-status=\"valid\""), "{page}");
        assert!(page.contains("三级/高级工"), "{page}");
        assert!(page.contains("重庆示例电力设备有限公司（演示）"), "{page}");
        assert!(page.contains("<summary>技术细节</summary>"), "{page}");
        assert!(page.contains("4,361"), "{page}");
        assert!(page.contains("重庆市人力资源和社会保障局"), "{page}");
        assert!(
            page.contains("<form class=\"bundle\" method=\"post\" action=\"/bundle\">"),
            "{page}"
        );
        assert!(
            page.contains("name=\"name\" value=\"张三\""),
            "the bundle is asked for with the typed name: {page}"
        );
        assert!(page.contains("<svg id=\"qr\">"), "{page}");
        assert!(page.contains("离线核验无法得知此后的撤销"), "{page}");
        assert!(
            page.contains(
                "<a class=\"button vc\" href=\"/v1/credentials/Y000050000102253000070/vc\" \
                 download=\"Y000050000102253000070.vc.json\">下载可验证凭证</a>"
            ),
            "the VC download button: {page}"
        );
        assert!(!page.contains("<script"), "no script on any page");
    }

    #[test]
    fn a_revoked_result_says_when_and_why() {
        let page = result_page(
            "重庆",
            &found(StatusView::Revoked {
                effective: "2025-01-15".to_string(),
                reason: "考试作弊，取消考试成绩和证书".to_string(),
            }),
            "Y000050000102253000070",
            "张三",
        )
        .into_string();
        assert!(page.contains("data-status=\"revoked\""), "{page}");
        assert!(page.contains("2025-01-15"), "{page}");
        assert!(page.contains("考试作弊"), "{page}");
    }

    #[test]
    fn not_found_echoes_only_what_was_sent_and_escapes_it() {
        let lookup = Lookup::NotFound {
            cert_no: "<script>x</script>".to_string(),
            checked: Some(checked()),
        };
        let page = result_page("重庆", &lookup, "<script>x</script>", "李四").into_string();
        assert!(page.contains("data-status=\"unknown\""), "{page}");
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;"), "{page}");
    }

    #[test]
    fn stats_page_draws_each_ledger_and_the_shared_share_chart() {
        let province = |label: &str, share: f64| ProvinceStats {
            label: label.to_string(),
            holders_total: 2985,
            high_skill: 703,
            high_skill_share: share,
            holders_by_level: vec![("初级工".to_string(), 542), ("高级工".to_string(), 578)],
            issued_by_year: vec![("2024".to_string(), 470), ("2025".to_string(), 654)],
            share_by_year: vec![
                ("2024".to_string(), share - 0.02),
                ("2025".to_string(), share),
            ],
            recognitions_active: 12,
            recognitions_withdrawn: 1,
            checked: Some(checked()),
            mirror: None,
        };
        let page = stats_page(
            "重庆",
            &[province("重庆市", 0.2361), province("四川省", 0.2312)],
        )
        .into_string();
        assert!(page.contains("23.6%") && page.contains("23.1%"), "{page}");
        assert!(page.contains("2,985"), "{page}");
        assert_eq!(page.matches("<svg class=\"chart\"").count(), 5, "{page}");
    }

    fn occupation_of(code: &str, name: &str) -> OccupationView {
        OccupationView {
            code: code.to_string(),
            name: name.to_string(),
        }
    }

    fn person() -> PersonPageView {
        PersonPageView {
            name: "冉小红".to_string(),
            id_masked: "500***********7602".to_string(),
            current: vec![CurrentLevelView {
                occupation: occupation_of("4-12-01-01", "汽车维修工"),
                level: "首席技师".to_string(),
            }],
            holdings: vec![
                HoldingView {
                    cert_no: "Y000050000101191900004".to_string(),
                    occupation: occupation_of("4-12-01-01", "汽车维修工"),
                    level: "一级/高级技师".to_string(),
                    issued: "2019-06-01".to_string(),
                    route: "职称贯通".to_string(),
                    kind_name: "职业技能等级证书".to_string(),
                    revoked: false,
                    basis_revoked: false,
                    recognition_url: None,
                },
                HoldingView {
                    cert_no: "S000051000201254000014".to_string(),
                    occupation: occupation_of("6-29-01-03", "砌筑工"),
                    level: "四级/中级工".to_string(),
                    issued: "2025-11-16".to_string(),
                    route: "互认".to_string(),
                    kind_name: "职业技能等级证书".to_string(),
                    revoked: true,
                    basis_revoked: false,
                    recognition_url: Some("/recognitions/S000051000201254000014".to_string()),
                },
            ],
            posts: vec![PostView {
                level: "首席技师".to_string(),
                occupation: occupation_of("4-12-01-01", "汽车维修工"),
                body_reg_no: "Y000050000101".to_string(),
                body_name: "重庆示例汽车制造有限公司（演示）".to_string(),
                term: "2024-06-01 至 2029-05-31".to_string(),
                status: "在聘".to_string(),
                current: true,
            }],
            recognitions: vec![RecognitionSummary {
                cert_no: "S000051000201254000014".to_string(),
                url: "/recognitions/S000051000201254000014".to_string(),
                origin_label: "四川省".to_string(),
                partner_occupation: occupation_of("6-29-01-03", "砌筑工"),
                occupation: occupation_of("6-29-01-03", "砌筑工"),
                level: "四级/中级工".to_string(),
                date: "2025-11-30".to_string(),
                active: false,
                withdrawn: Some("2025-11-30 撤回：发证地已撤销该证书".to_string()),
            }],
            special_abilities: vec![SpecialAbilityRow {
                cert_no: "S00005000000324Z000001".to_string(),
                ability: "重庆小面制作".to_string(),
                occupation: occupation_of("4-03-02-01", "中式烹调师"),
                issued: "2024-05-01".to_string(),
                body_name: "重庆某职业技能鉴定中心".to_string(),
                revoked: false,
            }],
            next_steps: vec![NextStepView {
                target: "汽车维修工 (4-12-01-01) 三级/高级工".to_string(),
                route: "评价".to_string(),
                earliest: "2030-11-05".to_string(),
                ready: false,
                basis: "自 2025-11-05 起持有中级工".to_string(),
            }],
            policy_version: Some(1),
            checked: Some(checked()),
        }
    }

    #[test]
    fn a_person_page_shows_levels_history_posts_recognitions_and_next_steps() {
        let page = person_result_page(
            "重庆",
            &PersonLookup::Found(Box::new(person())),
            "冉小红",
            "resident_id",
        )
        .into_string();
        assert!(page.contains("data-status=\"found\""), "{page}");
        for shown in [
            "当前等级",
            "首席技师",
            "证书记录",
            "已撤销",
            "岗位聘任",
            "重庆示例汽车制造有限公司（演示）",
            "在聘",
            "互认",
            "发证地已撤销该证书",
            "下一步可申报",
            "最早 2030-11-05 起可申报",
            "自 2025-11-05 起持有中级工",
            "500***********7602",
            "核验依据",
            "专项职业能力证书",
            "重庆小面制作",
            "不计入技能等级",
            "职业技能等级证书",
        ] {
            assert!(page.contains(shown), "{shown} missing: {page}");
        }
        // Each certificate links its own page by number; a recognised one its recognition.
        assert!(
            page.contains("href=\"/?cert_no=Y000050000101191900004\""),
            "{page}"
        );
        assert!(
            page.contains("href=\"/recognitions/S000051000201254000014\""),
            "{page}"
        );
        assert!(
            page.contains("href=\"/?cert_no=S00005000000324Z000001\""),
            "{page}"
        );
        // No address carries the name; the form posts.
        for href in page.split("href=\"").skip(1) {
            let href = &href[..href.find('"').unwrap_or(0)];
            assert!(!href.contains("冉") && !href.contains("%E5"), "{href}");
        }
        assert!(
            page.contains("<form class=\"card person\" method=\"post\" action=\"/person\">"),
            "{page}"
        );
        // Tables scroll inside their box on a phone.
        assert_eq!(
            page.matches("<div class=\"scroll\"><table").count(),
            page.matches("<table").count(),
            "{page}"
        );
        assert!(!page.contains("<script"), "{page}");
    }

    #[test]
    fn an_unknown_person_and_bad_input_read_in_chinese() {
        let unknown = person_result_page(
            "重庆",
            &PersonLookup::NotFound { checked: None },
            "<b>张三</b>",
            "passport",
        )
        .into_string();
        assert!(unknown.contains("data-status=\"unknown\""), "{unknown}");
        assert!(unknown.contains("未查询到相关个人记录"), "{unknown}");
        assert!(!unknown.contains("<b>张三"), "escaped: {unknown}");
        assert!(
            unknown.contains("<option value=\"passport\" selected>"),
            "{unknown}"
        );
        let bad = person_result_page(
            "重庆",
            &PersonLookup::BadInput {
                field: "id_no",
                message: "身份证件号码有误：校验位不符，请逐位核对。".to_string(),
            },
            "",
            "resident_id",
        )
        .into_string();
        assert!(bad.contains("data-field=\"id_no\""), "{bad}");
        assert!(bad.contains("身份证件号码有误"), "{bad}");
    }

    #[test]
    fn a_recognition_page_shows_origin_freshness_mapping_and_withdrawal() {
        let mut view = RecognitionPageView {
            cert_no: "S000051000201254000014".to_string(),
            origin: "skill-ledger/51".to_string(),
            origin_label: "四川省".to_string(),
            origin_authority: Some("四川省人力资源和社会保障厅".to_string()),
            origin_entry_index: 443,
            level: "四级/中级工".to_string(),
            partner_occupation: occupation_of("6-29-01-03", "砌筑工"),
            occupation: occupation_of("6-29-01-04", "本地砌筑工"),
            issued: "2025-11-16".to_string(),
            date: "2025-11-30".to_string(),
            authority_name: "重庆市人力资源和社会保障局".to_string(),
            withdrawn: None,
            revoked_at_origin: Some(false),
            mirror: Some(MirrorNote {
                partner: "四川省".to_string(),
                as_of: "签发于 2026-12-07 09:40:27（北京时间），3 分钟前同步".to_string(),
                held_size: Some(485),
            }),
            origin_checked: Some(CheckedAgainst {
                origin: "skill-ledger/51".to_string(),
                size: 485,
                signer: "skill-ledger/51".to_string(),
                time: Some("2026-12-07 09:40:27（北京时间）".to_string()),
                authority_name: None,
            }),
            checked: Some(checked()),
            entry_index: 466,
        };
        let page = recognition_page("重庆", &view).into_string();
        assert!(page.contains("data-status=\"active\""), "{page}");
        for shown in [
            "四川省人力资源和社会保障厅",
            "砌筑工",
            "6-29-01-03",
            "本地砌筑工",
            "6-29-01-04",
            "3 分钟前同步",
            "发证地有效",
            "#443",
            "485",
        ] {
            assert!(page.contains(shown), "{shown} missing: {page}");
        }
        assert!(
            page.contains("href=\"/?cert_no=S000051000201254000014\""),
            "{page}"
        );
        view.withdrawn = Some(WithdrawnView {
            effective: "2025-11-30".to_string(),
            reason: "发证地已撤销该证书".to_string(),
            entry_index: 470,
        });
        view.revoked_at_origin = Some(true);
        let page = recognition_page("重庆", &view).into_string();
        assert!(page.contains("data-status=\"withdrawn\""), "{page}");
        assert!(
            page.contains("撤回日期：2025-11-30；原因：发证地已撤销该证书"),
            "{page}"
        );
        assert!(page.contains("发证地已撤销"), "{page}");
    }

    #[test]
    fn a_recognised_credentials_page_links_its_recognition() {
        let mut view = credential(StatusView::Valid);
        view.recognition = Some(RecognitionLink {
            url: "/recognitions/S000051000201254000010".to_string(),
            active: true,
        });
        let lookup = Lookup::Found {
            credential: Box::new(view),
            result_url: String::new(),
            bundle_url: String::new(),
            vc_url: None,
            qr_svg: String::new(),
        };
        let page = result_page("重庆", &lookup, "S000051000201254000010", "张三").into_string();
        assert!(
            page.contains("href=\"/recognitions/S000051000201254000010\">已获本地互认"),
            "{page}"
        );
    }

    #[test]
    fn every_page_reads_on_a_phone_and_offers_the_person_lookup() {
        let pages = [
            lookup_page("重庆", "").into_string(),
            person_lookup_page("重庆").into_string(),
            bodies_page("重庆", &[]).into_string(),
            message_page("重庆", "页面不存在", "…").into_string(),
        ];
        for page in &pages {
            assert!(
                page.contains(
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                ),
                "{page}"
            );
            assert!(page.contains("<a href=\"/person\">个人查询</a>"), "{page}");
            assert!(page.contains("overflow-wrap:anywhere"), "{page}");
            assert!(
                page.contains(".scroll{max-width:100%;overflow-x:auto"),
                "{page}"
            );
        }
    }
}
