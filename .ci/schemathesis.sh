#!/usr/bin/env bash
# Schema-driven fuzzing of the HTTP API: Schemathesis reads /openapi.json of a served demo
# ledger and sends requests made from it, valid and invalid, with every check: no 5xx, every
# status, content type, header and body as the document declares it, schema-valid requests
# accepted, schema-invalid ones refused. Any failure fails the run.
#
# The node: the Chongqing ledger of `skill-ledger demo --no-serve` (its Sichuan partner
# mirrored and configured, so partner certificates and the witness endpoint answer), served
# by `skill-ledger serve` on a free loopback port. The verification rate limit is lifted
# (--verify-rate-per-s 0): the document declares the 429, but answers that are all 429 would
# test nothing behind the limit. Known certificate numbers, holder names, registration
# numbers and a subject from the demo's summary are offered to the generator alongside what
# it makes from the patterns, so requests reach credentials that exist.
#
# One worker: with two, CPython 3.11's `ast.parse` (which Hypothesis calls to describe
# filters) can fail across threads ("AST constructor recursion depth mismatch"), an error
# of the interpreter that reads as a run error.
#
# Bounded: a fixed number of examples per operation (SCHEMATHESIS_MAX_EXAMPLES, default
# 150), no stateful phase, a per-request timeout, and an overall `timeout`. The seed is fixed
# (SCHEMATHESIS_SEED overrides it) so a run can be replayed; reports go to
# SCHEMATHESIS_REPORT_DIR when set.
set -euo pipefail
cd "$(dirname "$0")/.."

# The pinned version lives in .ci/requirements.txt.
SCHEMATHESIS_VERSION="$(sed -n 's/^schemathesis==//p' .ci/requirements.txt)"
max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-150}"
seed="${SCHEMATHESIS_SEED:-16}"
overall_timeout_s="${SCHEMATHESIS_TIMEOUT_S:-900}"

python="$(command -v python3 || true)"
if [ -z "$python" ]; then
    echo "python3 is required for schemathesis" >&2
    exit 2
fi
if ! "$python" -m schemathesis.cli --version 2>/dev/null | grep -q "version $SCHEMATHESIS_VERSION\$"; then
    echo "== installing schemathesis $SCHEMATHESIS_VERSION"
    "$python" -m pip install --quiet --disable-pip-version-check -r .ci/requirements.txt
fi
"$python" -m schemathesis.cli --version | grep -q "version $SCHEMATHESIS_VERSION\$" || {
    echo "schemathesis $SCHEMATHESIS_VERSION could not be installed" >&2
    exit 2
}

echo "== building skill-ledger"
cargo build -q -p skill-ledger-cli
bin="${CARGO_TARGET_DIR:-target}/debug/skill-ledger"

work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "== demo ledgers"
"$bin" demo --dir "$work/demo" --no-serve --workers 300 --json > "$work/demo.json"

echo "== serving the Chongqing ledger"
SKILL_LEDGER_LOG="${SKILL_LEDGER_LOG:-warn}" "$bin" serve --dir "$work/demo/50" \
    --listen 127.0.0.1:0 --verify-rate-per-s 0 --json \
    > "$work/serve.out" 2> "$work/serve.err" &
server_pid=$!

# The address comes from the start line; the node is ready once /healthz answers 200.
url=""
for _ in $(seq 1 300); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "the node exited before it listened:" >&2
        cat "$work/serve.out" "$work/serve.err" >&2
        exit 1
    fi
    url="$("$python" -c 'import json,sys
for line in open(sys.argv[1]):
    print(json.loads(line)["url"]); break' "$work/serve.out" 2>/dev/null || true)"
    if [ -n "$url" ] && "$python" -c 'import sys,urllib.request
sys.exit(0 if urllib.request.urlopen(sys.argv[1] + "/healthz", timeout=2).status == 200 else 1)' "$url" 2>/dev/null; then
        break
    fi
    url=""
    sleep 0.1
done
if [ -z "$url" ]; then
    echo "the node did not become healthy within 30 s" >&2
    cat "$work/serve.err" >&2
    exit 1
fi
echo "node at $url"

# The configuration: the demo's identifiers as dictionaries; 413 among the refusals of
# invalid data (a value over its maxLength can make the body larger than body_bytes_max,
# refused before it is read); and what the document cannot promise for POST /v1/events: a
# schema-valid entry is bytes the rules still judge, so 422 (malformed-entry, or a rule's
# rejection) is an answer to valid data there; and for POST /v1/pseudonyms, a schema-valid
# request is signed by no registered body (403), may hold more items than the node allows or
# an identity number that is none (422), or, with many long items, be over body_bytes_max
# (413); a recognition draft of a certificate the partner's mirror does not hold is 404,
# of one the origin revoked 422; and a holder-bound bundle asked for with a name that is not
# the holder's is 422 (name-mismatch), of a number not on the ledger 404.
"$python" - "$work/demo.json" "$work/schemathesis.toml" <<'EOF'
import json, sys
summary = json.load(open(sys.argv[1]))
# The other credential kinds too: a special ability's number reaches
# GET /v1/special-abilities/{cert_no}, a qualification's and a comparison's the other routes.
samples = (summary["samples"]["valid"] + summary["samples"]["revoked"]
           + summary["samples"].get("kinds", []))
certificates = sorted({s["cert_no"] for s in samples})
names = sorted({s["name"] for s in samples})
bodies = sorted({c[:13] for c in certificates})
subjects = sorted({
    recognitions["joint_contest"]["subject"]
    for federation in summary["federation"].values()
    for recognitions in [federation["recognitions"]]
    if "joint_contest" in recognitions
})
def values(items):
    return "[" + ", ".join(json.dumps(item, ensure_ascii=False) for item in items) + "]"
with open(sys.argv[2], "w") as out:
    out.write(f"""\
[dictionaries.certificates]
values = {values(certificates)}
[dictionaries.names]
values = {values(names)}
[dictionaries.bodies]
values = {values(bodies)}
[dictionaries.subjects]
values = {values(subjects)}

[parameters]
"path.cert_no" = {{ dictionary = "certificates", probability = 0.5 }}
"path.reg_no" = {{ dictionary = "bodies", probability = 0.5 }}
"path.subject" = {{ dictionary = "subjects", probability = 0.5 }}
"body.certificate_number" = {{ dictionary = "certificates", probability = 0.5 }}
"body.name" = {{ dictionary = "names", probability = 0.5 }}

[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]

[[operations]]
include-path = "/v1/events"
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429"]

[[operations]]
include-path = "/v1/pseudonyms"
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = ["2xx", "403", "413", "422", "429"]

[[operations]]
include-path = "/v1/partner-credentials/{{cert_no}}/recognition"
include-method = "GET"
checks.positive_data_acceptance.expected-statuses = ["2xx", "404", "422"]

[[operations]]
include-path = "/v1/credentials/{{cert_no}}/bundle"
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = ["2xx", "404", "422", "429"]
""")
EOF

echo "== schemathesis $SCHEMATHESIS_VERSION: every check, $max_examples examples per operation, seed $seed"
report_args=()
if [ -n "${SCHEMATHESIS_REPORT_DIR:-}" ]; then
    report_args=(--report junit --report-dir "$SCHEMATHESIS_REPORT_DIR")
fi
status=0
# From the scratch directory: schemathesis keeps a cache in the working directory.
(cd "$work" && timeout "$overall_timeout_s" "$python" -m schemathesis.cli --config-file "$work/schemathesis.toml" \
    run "$url/openapi.json" \
    --checks all \
    --phases examples,coverage,fuzzing \
    --max-examples "$max_examples" \
    --seed "$seed" \
    --generation-database none \
    --workers 1 \
    --request-timeout 20 \
    --no-color \
    "${report_args[@]}") || status=$?

# The node must still be alive and healthy after the run, and must not have panicked.
if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "the node died during the run:" >&2
    cat "$work/serve.err" >&2
    status=1
elif grep -q "panicked" "$work/serve.err"; then
    echo "the node panicked during the run:" >&2
    grep -A5 "panicked" "$work/serve.err" >&2
    status=1
fi
kill -TERM "$server_pid" 2>/dev/null || true
if ! wait "$server_pid"; then
    echo "the node did not stop cleanly:" >&2
    tail -20 "$work/serve.err" >&2
    status=1
fi
server_pid=""

if [ "$status" -ne 0 ]; then
    echo "schemathesis: FAILED (exit $status)" >&2
    exit "$status"
fi
echo "schemathesis: passed"
