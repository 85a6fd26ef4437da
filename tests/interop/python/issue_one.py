#!/usr/bin/env python3
"""Issue one credential to a skill-ledger node from Python, with no skill-ledger code.

The worked example of docs/formats.md ("Signing elsewhere"), checked by
tests/issue_batch.rs: an evaluation body's own system

1. asks the node for the holder's pseudonyms (POST /v1/pseudonyms, signed with the body key),
2. builds the LevelCertified event's bytes (bincode, docs/formats.md Part 3) and the entry,
3. signs it with Ed25519 (Python's `cryptography` package, not ed25519-dalek),
4. posts it (POST /v1/events) and prints the node's receipt.

Usage: issue_one.py URL ORIGIN REGISTRATION_NUMBER SEED_HEX CERT_NO ID_NUMBER NAME
Only the standard library and `cryptography` are used.
"""

import base64
import hashlib
import json
import struct
import sys
import time
import urllib.error
import urllib.request
from datetime import date

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def post(url, path, body):
    request = urllib.request.Request(
        url.rstrip("/") + path,
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# bincode with BINCODE_CONFIG (docs/formats.md Part 3, section 1): little-endian, fixed width.
def u32(n):
    return struct.pack("<I", n)


def u64(n):
    return struct.pack("<Q", n)


def string(text):
    data = text.encode("utf-8")
    return u64(len(data)) + data


def day(iso):
    """A Date: i32 LE days since 1970-01-01."""
    return struct.pack("<i", (date.fromisoformat(iso) - date(1970, 1, 1)).days)


def occupation(code):
    """An OccupationCode such as 6-18-01-01: four u8."""
    return bytes(int(part) for part in code.split("-"))


LEVELS = {"初级工": 1, "中级工": 2, "高级工": 3, "技师": 4, "高级技师": 5}


def level_certified(event_id, cert_no, subject, commitment, occ, level, issued, statement):
    """Event = EventId (16) ‖ EventKind; LevelCertified is tag 8, its route
    Evaluation(Attested { statement }) is u32 0 ‖ u32 1 ‖ string."""
    return (
        event_id
        + u32(8)
        + cert_no.encode("ascii")
        + subject
        + commitment
        + occupation(occ)
        + b"\x00"  # work_type: None
        + u32(LEVELS[level])
        + day(issued)
        + u32(0)
        + u32(1)
        + string(statement)
    )


def text(value):
    """text(x) of the pseudonym request message: u32 LE byte length ‖ UTF-8."""
    data = value.encode("utf-8")
    return u32(len(data)) + data


def main():
    url, origin, registration, seed_hex, cert_no, id_number, name = sys.argv[1:8]
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex))
    public_key = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    # 1. The holder's pseudonyms, asked with the body key (docs/formats.md Part 5).
    timestamp = int(time.time())
    item = {"id_type": "resident_id", "id_number": id_number, "name": name,
            "certificate_number": cert_no}
    message = (
        b"skill-ledger/pseudonym-request/v1\n"
        + text(origin)
        + text(registration)
        + u64(timestamp)
        + u32(1)
        + text(item["id_type"]) + text(item["id_number"]) + text(item["name"])
        + text(item["certificate_number"])
    )
    status, answer = post(url, "/v1/pseudonyms", {
        "registration_number": registration,
        "public_key": public_key.hex(),
        "timestamp_unix_s": timestamp,
        "items": [item],
        "signature": base64.b64encode(key.sign(message)).decode("ascii"),
    })
    if status != 200:
        print(json.dumps({"step": "pseudonyms", "status": status, "answer": answer}))
        return 1
    subject = bytes.fromhex(answer["items"][0]["subject"])
    commitment = bytes.fromhex(answer["items"][0]["name_commitment"])

    # 2. The event. Its id derives from the certificate number as issue-batch derives it, so
    #    a retry is the same event (answered as a duplicate).
    event_id = hashlib.sha256(
        b"skill-ledger/issue-csv/v1\0" + origin.encode("utf-8") + b"\0" + cert_no.encode("ascii")
    ).digest()[:16]
    event = level_certified(event_id, cert_no, subject, commitment, "6-18-01-01", "初级工",
                            "2020-06-01", "本职业工作满1年")

    # 3. Sign "skill-ledger/event/v1\n" ‖ origin ‖ "\n" ‖ bincode(Event) (Part 3, section 3),
    #    and lay out the entry (section 2): version 1, Signer::Body (u32 1) ‖ registration
    #    number, public key, signature, event.
    signature = key.sign(b"skill-ledger/event/v1\n" + origin.encode("utf-8") + b"\n" + event)
    entry = b"\x01" + u32(1) + registration.encode("ascii") + public_key + signature + event

    # 4. Submit.
    status, answer = post(url, "/v1/events", {"entry": base64.b64encode(entry).decode("ascii")})
    print(json.dumps({"step": "submit", "status": status, "answer": answer,
                      "entry": base64.b64encode(entry).decode("ascii")}, ensure_ascii=False))
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
