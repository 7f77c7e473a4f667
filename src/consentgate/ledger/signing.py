"""The ledger key: Ed25519 signatures over chain heads, so rewriting the ledger needs more than SQL.

A hash chain alone proves nothing against someone who can write to the database: they can re-hash a
forged suffix. The service therefore signs both chain heads after every write (a *seal*) with a
private key that lives in a file outside the database; auditors verify with the public key, which
they hold themselves (a public key read from the same database would prove nothing).

Key files are PEM: the private key as PKCS#8 (mode 0600), the public keys as SubjectPublicKeyInfo.
A rotation writes a new private key and *appends* its public key to the ``.pub`` file, so one file
keeps verifying seals made under every earlier key.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from consentgate.errors import BadInput

KEY_FILE_NAME = "ledger.key"
_PEM_BLOCK = re.compile(rb"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.S)


def key_id(public: Ed25519PublicKey) -> str:
    """A short public name for a key: the first 16 hex digits of sha256 of its raw 32 bytes."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass(frozen=True)
class PublicKeys:
    """The keys a verifier trusts, by key id."""

    keys: Mapping[str, Ed25519PublicKey]
    source: str  # where they came from, for messages ("ledger.pub", "the ledger key")

    def verify(self, kid: str, signature: str, message: bytes) -> str | None:
        """None when ``signature`` (base64) is ``kid``'s valid signature of ``message``; else why not."""
        key = self.keys.get(kid)
        if key is None:
            return f"it was signed by key {kid}, which is not among the trusted keys ({self.source})"
        try:
            key.verify(base64.b64decode(signature, validate=True), message)
        except (InvalidSignature, ValueError):
            return f"its signature (key {kid}) does not verify: it was forged or altered"
        return None

    @classmethod
    def load(cls, paths: Iterable[Path]) -> PublicKeys:
        """Every public key in these PEM files (a rotated ``.pub`` file holds several)."""
        keys: dict[str, Ed25519PublicKey] = {}
        names = []
        for path in paths:
            names.append(str(path))
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise BadInput(f"cannot read public key file {path}: {exc.strerror or exc}") from exc
            blocks = _PEM_BLOCK.findall(data)
            if not blocks:
                raise BadInput(f"{path} holds no PEM public key ('-----BEGIN PUBLIC KEY-----')")
            for block in blocks:
                key = serialization.load_pem_public_key(block)
                if not isinstance(key, Ed25519PublicKey):
                    raise BadInput(f"{path} holds a public key that is not Ed25519")
                keys[key_id(key)] = key
        return cls(keys, ", ".join(names))


class Signer:
    """The service's private ledger key; never stored in the database, never printed."""

    __slots__ = ("_key", "key_id", "path")

    def __init__(self, key: Ed25519PrivateKey, path: Path | None = None) -> None:
        self._key = key
        self.key_id = key_id(key.public_key())
        self.path = path

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self._key.sign(message)).decode()

    def public_keys(self) -> PublicKeys:
        """The keys to verify with when the caller pinned none: the ``.pub`` file beside the key
        (every key it was rotated through), else just this key's public half."""
        pub = self.path.with_suffix(".pub") if self.path is not None else None
        if pub is not None and pub.exists():
            return PublicKeys.load([pub])
        return PublicKeys({self.key_id: self._key.public_key()}, "the ledger key's own public half")

    @classmethod
    def load(cls, path: Path) -> Signer:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise BadInput(
                f"cannot read the ledger key {path}: {exc.strerror or exc}; create one with "
                "`consentgate keys ledger`"
            ) from exc
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise BadInput(f"{path} is not an unencrypted PEM private key") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise BadInput(f"{path} holds a private key that is not Ed25519")
        return cls(key, path)

    def __repr__(self) -> str:  # never the key
        return f"Signer(key_id={self.key_id!r})"


def create_key(path: Path, *, rotate: bool = False) -> Signer:
    """Write a new private key to ``path`` (0600) and add its public key to ``path.pub``.

    Refuses to replace an existing key unless ``rotate``: losing the private key is harmless for
    verification (the ``.pub`` file keeps the public half) but a silent overwrite would surprise.
    """
    if path.exists() and not rotate:
        raise BadInput(f"{path} already exists; pass --rotate to replace it with a new key")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    pub = path.with_suffix(".pub")
    with pub.open("ab") as f:  # appended: older seals keep verifying after a rotation
        f.write(public_pem(key.public_key()))
    os.replace(tmp, path)
    return Signer(key, path)


def default_key_path(db: str) -> Path | None:
    """``ledger.key`` beside a SQLite ledger file (where ``init`` puts it); None for PostgreSQL."""
    if "://" in db and not db.startswith("sqlite"):
        return None
    file = db.split("///", 1)[1] if db.startswith("sqlite") else db
    if not file or file == ":memory:":
        return None
    return Path(file).parent / KEY_FILE_NAME


def find_signer(configured: Path | None, db: str) -> Signer | None:
    """The configured key (it must exist), else ``ledger.key`` beside a SQLite ledger if present."""
    if configured is not None:
        return Signer.load(configured)
    beside = default_key_path(db)
    if beside is not None and beside.exists():
        return Signer.load(beside)
    return None
