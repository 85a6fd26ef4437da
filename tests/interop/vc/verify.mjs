// Independent verifier for skill-ledger Verifiable Credentials, built on Digital Bazaar's
// reference JavaScript libraries (pinned in package.json / package-lock.json). Offline: the
// document loader serves only the contexts bundled in crates/vc/contexts/ (plus any given with
// --context), the controller document and its verification methods; anything else throws.
//
// Usage:
//   node verify.mjs --controller CONTROLLER.json [--status-list LIST.json] [--proof-only]
//                   [--context URL=FILE]... CREDENTIAL.json...
// Prints one line per credential: "VERIFIED <file>", "REVOKED <file>" or "FAILED <file>: reason".
// Exit 0 only if all are VERIFIED; 1 otherwise; 2 on usage errors.
//
// --proof-only checks just the Data Integrity proof (jsonld-signatures, AssertionProofPurpose:
// the key must be an assertionMethod of its controller), not the VC rules; the W3C test vectors
// need it, since their issuer is not the key's controller.
// --status-list: the BitstringStatusListCredential served at its id; every credential with a
// BitstringStatusListEntry is checked against it (@digitalbazaar/vc-bitstring-status-list,
// which also verifies the list credential itself and that both issuers match).
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import * as vc from '@digitalbazaar/vc';
import jsigs from 'jsonld-signatures';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as rdfc} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {createVerifyCryptosuite} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';

const here = path.dirname(fileURLToPath(import.meta.url));
const contextDir = path.resolve(here, '..', '..', '..', 'crates', 'vc', 'contexts');
// The same table as crates/vc/src/contexts.rs.
const CONTEXTS = {
  'https://www.w3.org/ns/credentials/v2': 'credentials-v2.jsonld',
  'https://w3id.org/security/data-integrity/v2': 'data-integrity-v2.jsonld',
  'https://w3id.org/security/multikey/v1': 'multikey-v1.jsonld',
  'https://www.w3.org/ns/did/v1': 'did-v1.jsonld',
  'https://skill-ledger.example/ns/credentials/v1': 'skill-ledger-v1.jsonld',
};

function usage(message) {
  console.error(`usage error: ${message}`);
  console.error('usage: node verify.mjs --controller CONTROLLER.json [--status-list LIST.json] ' +
    '[--proof-only] [--context URL=FILE]... CREDENTIAL.json...');
  process.exit(2);
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

const args = process.argv.slice(2);
let controllerFile;
let statusListFile;
let proofOnly = false;
const extraContexts = [];
const files = [];
for(let i = 0; i < args.length; ++i) {
  const a = args[i];
  if(a === '--controller' || a === '--status-list' || a === '--context') {
    const v = args[++i];
    if(v === undefined) {
      usage(`${a} needs a value`);
    }
    if(a === '--controller') {
      controllerFile = v;
    } else if(a === '--status-list') {
      statusListFile = v;
    } else {
      const eq = v.indexOf('=');
      if(eq <= 0) {
        usage('--context takes URL=FILE');
      }
      extraContexts.push([v.slice(0, eq), v.slice(eq + 1)]);
    }
  } else if(a === '--proof-only') {
    proofOnly = true;
  } else if(a.startsWith('--')) {
    usage(`unknown option ${a}`);
  } else {
    files.push(a);
  }
}
if(!controllerFile) {
  usage('--controller is required');
}
if(files.length === 0) {
  usage('no credential given');
}

const documents = new Map();
try {
  for(const [url, file] of Object.entries(CONTEXTS)) {
    documents.set(url, readJson(path.join(contextDir, file)));
  }
  for(const [url, file] of extraContexts) {
    documents.set(url, readJson(file));
  }
  const controller = readJson(controllerFile);
  documents.set(controller.id, controller);
  for(const vm of controller.verificationMethod || []) {
    documents.set(vm.id, {'@context': controller['@context'], ...vm});
  }
  if(statusListFile) {
    const list = readJson(statusListFile);
    documents.set(list.id, list);
  }
} catch(e) {
  usage(`cannot read an input: ${e.message}`);
}

async function documentLoader(url) {
  if(documents.has(url)) {
    // A deep copy: the libraries must not see each other's changes.
    return {contextUrl: null, documentUrl: url, document: structuredClone(documents.get(url))};
  }
  throw new Error(`offline document loader: ${url} is not served`);
}

const suite = [
  new DataIntegrityProof({cryptosuite: rdfc}),
  new DataIntegrityProof({cryptosuite: createVerifyCryptosuite()}),
];

function reason(result) {
  const errors = [];
  const collect = e => {
    if(!e) {
      return;
    }
    if(Array.isArray(e)) {
      e.forEach(collect);
    } else {
      errors.push(e.message || String(e));
      if(e.cause) {
        collect(e.cause);
      }
      if(e.errors) {
        collect(e.errors);
      }
    }
  };
  collect(result.error);
  for(const r of result.results || []) {
    collect(r.error);
  }
  collect(result.statusResult && result.statusResult.error);
  return [...new Set(errors)].join('; ') || 'not verified';
}

let allVerified = true;
for(const file of files) {
  let line;
  try {
    const credential = readJson(file);
    if(proofOnly) {
      const result = await jsigs.verify(credential, {
        suite, documentLoader, purpose: new jsigs.purposes.AssertionProofPurpose()
      });
      line = result.verified ? `VERIFIED ${file}` : `FAILED ${file}: ${reason(result)}`;
    } else {
      const hasStatus = !!credential.credentialStatus;
      const options = {credential, suite, documentLoader};
      if(hasStatus) {
        options.checkStatus = statusListFile ? checkStatus :
          // No list given: the status is not checked (said so on the line).
          async () => ({verified: true, results: []});
      }
      const result = await vc.verifyCredential(options);
      if(!result.verified) {
        line = `FAILED ${file}: ${reason(result)}`;
      } else if(hasStatus && statusListFile) {
        const revoked = result.statusResult.results.some(r => r.status === true);
        line = revoked ? `REVOKED ${file}` : `VERIFIED ${file}`;
      } else {
        line = `VERIFIED ${file}` + (hasStatus ? ' (status not checked)' : '');
      }
    }
  } catch(e) {
    line = `FAILED ${file}: ${e.message}`;
  }
  if(!line.startsWith('VERIFIED ')) {
    allVerified = false;
  }
  console.log(line);
}
process.exit(allVerified ? 0 : 1);
