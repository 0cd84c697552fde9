"""School -> city: the files a batch's rows name (hand-in photos), by content hash, before the
batch. The school asks which of them the city lacks and sends only those; the city checks each
against its hash and stores it by content, so a file sent twice (a round cut, another school's
identical photo) is stored once. The batch is applied only once every file it names is there
(rows.py refuses it otherwise, nothing applied), so a cut anywhere resumes cleanly."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from academy.assignments import photos
from academy.sync import client
from academy.sync.problems import N_
from academy.sync.rows import Refused

# One request's worth of files (raw bytes; base64 in JSON adds a third), well under the
# city's MAX_CONTENT_LENGTH, so a slow link makes progress file group by file group.
CHUNK_BYTES = 8 * 1024 * 1024


def named(envelope: dict[str, Any]) -> list[str]:
    """The content hashes of the files the batch's rows name, each once."""
    hashes = {
        photo["sha256"]
        for row in envelope.get("rows", {}).get("submissions", [])
        for photo in row.get("photos") or []
    }
    return sorted(hashes)


def send(base: str, token: str, envelope: dict[str, Any]) -> int:
    """Send the files of this batch the city does not hold yet; how many were sent."""
    hashes = named(envelope)
    if not hashes:
        return 0
    missing = client.call(base, "/sync/api/files/missing", token=token,
                          payload={"files": hashes})["missing"]  # fmt: skip
    sent, chunk, size = 0, {}, 0
    for sha in missing:
        path = photos.photo_path(sha)
        try:
            data = path.read_bytes()
        except OSError:
            # Said in plain words on the status page; the batch waits for the file.
            raise client.Unreachable(
                f"the hand-in photo {path} is missing on this server"
            ) from None
        if chunk and size + len(data) > CHUNK_BYTES:
            client.call(base, "/sync/api/files", token=token, payload={"files": chunk})
            sent, chunk, size = sent + len(chunk), {}, 0
        chunk[sha] = base64.b64encode(data).decode()
        size += len(data)
    if chunk:
        client.call(base, "/sync/api/files", token=token, payload={"files": chunk})
        sent += len(chunk)
    return sent


# --- the city -------------------------------------------------------------------------------------


def _path(sha: Any) -> Any:
    try:
        return photos.photo_path(str(sha))
    except ValueError:
        raise Refused(N_("%(value)s is not a SHA-256"), value=repr(str(sha)[:80])) from None


def missing(hashes: Any) -> list[str]:
    """Which of these files the city does not hold."""
    if not isinstance(hashes, list):
        raise Refused(N_("name the files as a list of SHA-256 hashes"))
    return [sha for sha in hashes if not _path(sha).is_file()]


def receive(files: Any) -> int:
    """Store the files sent, each checked against its hash first; how many were new."""
    if not isinstance(files, dict):
        raise Refused(N_("send the files as an object of SHA-256 -> base64"))
    checked = []
    for sha, encoded in files.items():
        target = _path(sha)
        try:
            data = base64.b64decode(str(encoded), validate=True)
        except (binascii.Error, ValueError):
            raise Refused(N_("the file %(sha)s is not base64"), sha=sha) from None
        if hashlib.sha256(data).hexdigest() != sha:
            raise Refused(
                N_("the file %(sha)s is truncated or corrupted (its SHA-256 differs)"), sha=sha
            )
        checked.append((target, photos.Photo(data, sha, 0, 0)))
    new = 0
    for target, photo in checked:
        if not target.is_file():
            photos.store(photo)
            new += 1
    return new
