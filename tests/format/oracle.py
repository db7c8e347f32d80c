# SPDX-License-Identifier: MIT
"""An independent implementation of the byokfs format primitives.

Written from docs/FORMAT.md, on OpenSSL (python3-cryptography) and
hashlib's BLAKE2b, not on libsodium, so that known-answer vectors and the
volume reader in this folder check the C code rather than echo it.
XChaCha20 is built from OpenSSL's ChaCha20 the standard way: HChaCha20's
output is the ChaCha20 block function's permuted state before the final
addition, recovered here by subtracting the (known) initial state.
"""
import hashlib
import hmac
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

SIGMA = b"expand 32-byte k"


def hchacha20(key, nonce16):
    ks = Cipher(algorithms.ChaCha20(key, nonce16), mode=None).encryptor().update(bytes(64))
    out = struct.unpack("<16I", ks)
    init = struct.unpack("<4I", SIGMA) + struct.unpack("<8I", key) + struct.unpack("<4I", nonce16)
    words = [(out[i] - init[i]) & 0xFFFFFFFF for i in (0, 1, 2, 3, 12, 13, 14, 15)]
    return struct.pack("<8I", *words)


def xchacha20_xor(key, nonce24, data, counter=0):
    sub = hchacha20(key, nonce24[:16])
    n16 = struct.pack("<I", counter) + bytes(4) + nonce24[16:]
    return Cipher(algorithms.ChaCha20(sub, n16), mode=None).encryptor().update(data)


def xchacha_aead_encrypt(key, nonce24, pt, ad):
    sub = hchacha20(key, nonce24[:16])
    return ChaCha20Poly1305(sub).encrypt(bytes(4) + nonce24[16:], pt, ad)


def xchacha_aead_decrypt(key, nonce24, ct, ad):
    sub = hchacha20(key, nonce24[:16])
    return ChaCha20Poly1305(sub).decrypt(bytes(4) + nonce24[16:], ct, ad)


def kdf(vkey, subkey_id):
    """libsodium crypto_kdf_derive_from_key, context "byokfsV1"."""
    salt = struct.pack("<Q", subkey_id) + bytes(8)
    person = b"byokfsV1" + bytes(8)
    return hashlib.blake2b(b"", digest_size=32, key=vkey, salt=salt, person=person).digest()


SUBKEYS = {"header": 1, "name_mac": 2, "name_enc": 3, "desc_mac": 4, "link": 5, "xattr": 6, "rekey": 7}

CIPHERS = {1: ("aes-256-gcm", 12), 2: ("xchacha20-poly1305", 24)}


def block_ad(file_id, index, final):
    return file_id + struct.pack("<Q", index) + bytes([1 if final else 0])


def block_encrypt(cipher, key, file_id, index, final, nonce, pt):
    ad = block_ad(file_id, index, final)
    if cipher == 1:
        return nonce + AESGCM(key).encrypt(nonce, pt, ad)
    return nonce + xchacha_aead_encrypt(key, nonce, pt, ad)


def block_decrypt(cipher, key, file_id, index, final, stored):
    nlen = CIPHERS[cipher][1]
    nonce, body = stored[:nlen], stored[nlen:]
    ad = block_ad(file_id, index, final)
    if cipher == 1:
        return AESGCM(key).decrypt(nonce, body, ad)
    return xchacha_aead_decrypt(key, nonce, body, ad)


def header_unwrap(raw, header_key, volume_id):
    assert raw[:4] == b"BYKF" and raw[4] == 1, "bad magic/version"
    ad = raw[:32] + volume_id
    return xchacha_aead_decrypt(header_key, raw[32:56], raw[56:104], ad)


def header_make(cipher, block_shift, epoch, file_id, nonce, dek, header_key, volume_id):
    fixed = b"BYKF" + bytes([1, cipher, block_shift, 0]) + struct.pack("<I", epoch) + bytes(4) + file_id
    return fixed + nonce + xchacha_aead_encrypt(header_key, nonce, dek, fixed + volume_id)


def b64url(b):
    import base64
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64url_dec(s):
    import base64
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def name_encrypt(name_mac, name_enc, dirid, name):
    pad = 16 - len(name) % 16
    padded = name + bytes([pad]) * pad
    tag = hashlib.blake2b(dirid + padded, digest_size=16, key=name_mac).digest()
    return b64url(tag + xchacha20_xor(name_enc, tag + bytes(8), padded))


def name_decrypt(name_mac, name_enc, dirid, enc):
    raw = b64url_dec(enc)
    tag, ct = raw[:16], raw[16:]
    padded = xchacha20_xor(name_enc, tag + bytes(8), ct)
    want = hashlib.blake2b(dirid + padded, digest_size=16, key=name_mac).digest()
    if not hmac.compare_digest(want, tag):
        raise ValueError("name fails authentication")
    pad = padded[-1]
    if not 1 <= pad <= 16 or padded[-pad:] != bytes([pad]) * pad:
        raise ValueError("bad name padding")
    return padded[:-pad]


def long_entry(enc):
    return ".L" + b64url(hashlib.blake2b(enc.encode(), digest_size=32).digest())


def unseal(key, ad, sealed):
    return xchacha_aead_decrypt(key, sealed[:24], sealed[24:], ad)


def seal_with_nonce(key, ad, nonce, pt):
    return nonce + xchacha_aead_encrypt(key, nonce, pt, ad)
