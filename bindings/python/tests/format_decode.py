"""Reads every key and value of a Lightning DB coded page file (format version 2) from
docs/format.md alone: meta pages (§4.2, §4.8), blocks and their checksums, the codecs (§3.4), nodes
with elided slots and wide references (§4.3-4.5, §4.8), overflow blocks, and an encrypted file's
key section, meta tag and sealed blocks (§4.9). It uses nothing of Lightning DB, only packages from
PyPI: the codecs (lz4, zstandard, python-snappy) and `cryptography`.

    python format_decode.py DIR/data.ldb [--key HEX | --passphrase TEXT]
        prints each key and value in hex, in key order
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Iterator

import lz4.block  # type: ignore[import-untyped]
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
import snappy  # type: ignore[import-untyped]
import zstandard

SECTOR = 256


def _crc32c_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked(crc: int) -> int:
    """§2: rotate right by 15, add 0xa282ead8."""
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


class FormatError(Exception):
    """The file does not follow docs/format.md."""


Aead = AESGCM | ChaCha20Poly1305


def aead(cipher: int, key: bytes) -> Aead:
    """The cipher a key section or block header names (§4.9)."""
    if cipher == 1:
        return AESGCM(key)
    if cipher == 2:
        return ChaCha20Poly1305(key)
    raise FormatError(f"unknown cipher {cipher}")


def derive(data_key: bytes, database_id: bytes, info: bytes) -> bytes:
    """A key derived from the data key: HKDF-SHA256, salt the database id (§4.9)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=database_id, info=info).derive(data_key)


class CodedFile:
    def __init__(self, data: bytes, key: bytes | None = None, passphrase: str | None = None) -> None:
        self.data = data
        if data[16:24] != b"LIGHTNDB":
            raise FormatError("bad magic")
        self.page_size = struct.unpack_from("<I", data, 28)[0]
        metas = []
        for slot in (0, 1):
            page = data[slot * self.page_size : (slot + 1) * self.page_size]
            (crc,) = struct.unpack_from("<I", page, 0)
            if crc != masked(crc32c(page[4:])) or page[4] != 1:
                continue
            generation = struct.unpack_from("<Q", page, 32)[0]
            metas.append((generation, page))
        if not metas:
            raise FormatError("no valid meta page")
        meta = max(metas)[1]
        if struct.unpack_from("<I", meta, 24)[0] != 2:
            raise FormatError("not a coded file (version 2)")
        self.root = struct.unpack_from("<Q", meta, 40)[0]
        self.root_check = struct.unpack_from("<Q", meta, 96)[0]
        self.database_id = meta[112:128]
        self.codecs_seen: set[int] = set()
        self.cipher = meta[128]
        self.epoch_ciphers: dict[int, Aead] = {}
        if self.cipher:
            self.unlock(meta, key, passphrase)

    def unlock(self, meta: bytes, key: bytes | None, passphrase: str | None) -> None:
        """Unwraps the data key from the key section and checks the meta tag (§4.9)."""
        source = meta[129]
        memory_kib, iterations, lanes = struct.unpack_from("<III", meta, 132)
        salt = meta[144:160]
        if source == 0:
            if key is None:
                raise FormatError("the file is encrypted under a key")
            kek = key
        elif passphrase is None:
            raise FormatError("the file is encrypted under a passphrase")
        elif source == 1:
            kek = Argon2id(
                salt=salt, length=32, iterations=iterations, lanes=lanes, memory_cost=memory_kib
            ).derive(passphrase.encode())
        elif source == 2:
            kek = PBKDF2HMAC(
                algorithm=hashes.SHA256(), length=32, salt=salt, iterations=iterations
            ).derive(passphrase.encode())
        else:
            raise FormatError(f"unknown key source {source}")
        wrapped = meta[160:220]
        aad = b"LDB key" + self.database_id + meta[128:160]
        try:
            self.data_key = aead(self.cipher, kek).decrypt(wrapped[:12], wrapped[12:], aad)
        except InvalidTag:
            raise FormatError("wrong key or passphrase") from None
        meta_key = derive(self.data_key, self.database_id, b"lightning-db meta")
        meta_aad = b"LDB meta" + meta[16:224] + meta[252:]
        try:
            aead(self.cipher, meta_key).decrypt(meta[224:236], meta[236:252], meta_aad)
        except InvalidTag:
            raise FormatError("the meta page does not authenticate") from None

    def epoch_cipher(self, cipher: int, epoch: int) -> Aead:
        if cipher != self.cipher:
            raise FormatError("a block of another cipher than the file's")
        if epoch not in self.epoch_ciphers:
            info = b"lightning-db epoch" + struct.pack("<I", epoch)
            self.epoch_ciphers[epoch] = aead(cipher, derive(self.data_key, self.database_id, info))
        return self.epoch_ciphers[epoch]

    def block(self, address: int, check: int) -> bytes:
        """The decompressed content of the block at `address`, checked (§4.8)."""
        first, sectors = address >> 24, address & 0xFFFFFF
        raw = self.data[first * SECTOR : (first + sectors) * SECTOR]
        (crc, codec, stored_len, raw_len) = struct.unpack_from("<IBxxxII", raw, 0)
        covered = self.database_id + struct.pack("<Q", address) + raw[4:stored_len]
        if crc != masked(crc32c(covered)):
            raise FormatError(f"block {address:#x}: checksum mismatch")
        if codec >> 4:
            # Sealed (§4.9): the tag ends the block, and its first 8 bytes are the check.
            tag = raw[stored_len - 16 : stored_len]
            if struct.unpack_from("<Q", tag, 0)[0] != check:
                raise FormatError(f"block {address:#x}: not the block its parent names")
            (epoch,) = struct.unpack_from("<I", raw, 16)
            aad = b"LDB block" + self.database_id + struct.pack("<Q", address) + raw[4:32]
            try:
                body = self.epoch_cipher(codec >> 4, epoch).decrypt(
                    raw[20:32], raw[32:stored_len], aad
                )
            except InvalidTag:
                raise FormatError(f"block {address:#x}: does not authenticate") from None
        elif self.cipher:
            raise FormatError(f"block {address:#x}: in the clear in an encrypted file")
        elif crc != check:
            raise FormatError(f"block {address:#x}: not the block its parent names")
        else:
            body = raw[32:stored_len]
        self.codecs_seen.add(codec & 0xF)
        if codec & 0xF == 0:
            out = body
        elif codec & 0xF == 1:
            out = lz4.block.decompress(body, uncompressed_size=raw_len)
        elif codec & 0xF == 2:
            out = zstandard.ZstdDecompressor().decompress(body)
        elif codec & 0xF == 3:
            out = snappy.uncompress(body)
        else:
            raise FormatError(f"unknown codec {codec}")
        if len(out) != raw_len:
            raise FormatError(f"block {address:#x}: decodes to {len(out)} bytes, not {raw_len}")
        return bytes(out)

    def node(self, address: int, check: int) -> bytearray:
        """A leaf or branch page, its elided slots rebuilt (§4.8)."""
        page = bytearray(self.block(address, check))
        kind, flags, count = page[4], page[5], struct.unpack_from("<H", page, 6)[0]
        offsets_at = 16 if kind == 2 else 32
        if flags & 2:
            heads_at = offsets_at + 2 * count
            at = heads_at + 8 * count
            for i in range(count):
                entry_flags, key_len, value_len = struct.unpack_from("<BHI", page, at)
                key = page[at + 7 : at + 7 + key_len]
                head = key[-8:] if entry_flags & 1 else (bytes(key[:8]) + bytes(8))[:8]
                struct.pack_into("<H", page, offsets_at + 2 * i, at)
                page[heads_at + 8 * i : heads_at + 8 * i + 8] = head
                at += 7 + key_len + value_len
            page[5] = flags & ~2
        return page

    def entries(self, address: int, check: int) -> Iterator[tuple[bytes, bytes]]:
        """Every (key, value) under the node at `address`, in key order."""
        page = self.node(address, check)
        kind, count = page[4], struct.unpack_from("<H", page, 6)[0]
        offsets_at = 16 if kind == 2 else 32
        fields = []
        for i in range(count):
            (at,) = struct.unpack_from("<H", page, offsets_at + 2 * i)
            entry_flags, key_len, value_len = struct.unpack_from("<BHI", page, at)
            key = bytes(page[at + 7 : at + 7 + key_len])
            value = bytes(page[at + 7 + key_len : at + 7 + key_len + value_len])
            fields.append((entry_flags, key, value))
        if kind == 3:
            children = [page[16:32]] + [value for _, _, value in fields]
            for child in children:
                child_address, child_check = struct.unpack("<QQ", child)
                yield from self.entries(child_address, child_check)
            return
        for entry_flags, key, value in fields:
            if entry_flags & 1:
                key = self.overflow(key[:24])
            if entry_flags & 2:
                value = self.overflow(value)
            yield key, value

    def overflow(self, reference: bytes) -> bytes:
        address, check, length = struct.unpack_from("<QQQ", reference, 0)
        data = self.block(address, check)
        if len(data) != length:
            raise FormatError("overflow block of another length than its reference")
        return data

    def all(self) -> Iterator[tuple[bytes, bytes]]:
        if self.root:
            yield from self.entries(self.root, self.root_check)


def main() -> None:
    args = sys.argv[1:]
    key = bytes.fromhex(args[args.index("--key") + 1]) if "--key" in args else None
    passphrase = args[args.index("--passphrase") + 1] if "--passphrase" in args else None
    with open(args[0], "rb") as f:
        coded = CodedFile(f.read(), key=key, passphrase=passphrase)
    for key, value in coded.all():
        print(key.hex(), value.hex())


if __name__ == "__main__":
    main()
