"""WeChat message crypto (WXBizMsgCrypt): see docs/WECHAT.md section 5."""

import base64
import binascii
import hashlib
import hmac
import secrets
import string
import time
from xml.etree.ElementTree import ParseError

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml.ElementTree import fromstring

MAX_ENCRYPT_LEN = 64 * 1024
# Room for the envelope around Encrypt (tags, AppId/ToUserName, pretty-printing).
MAX_BODY_LEN = MAX_ENCRYPT_LEN + 4096
MAX_PARAM_LEN = 128
BLOCK = 32  # WeChat's PKCS#7 block size, not AES's 16
_ALNUM = string.ascii_letters + string.digits


class MessageCryptoError(Exception):
    """Any bad push input. reason "bad_signature" means 403 to callers; every other reason 400."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def parse_xml_fields(xml_text: str) -> dict[str, str]:
    """Text of each child of the root <xml>, as strings."""
    try:
        # A push never carries a DTD, so refuse any (entities are refused by default anyway).
        root = fromstring(xml_text, forbid_dtd=True)
    except (ParseError, ValueError, LookupError, TypeError) as exc:
        raise MessageCryptoError("malformed_xml", type(exc).__name__) from None
    if root.tag != "xml":
        raise MessageCryptoError("malformed_xml", f"root is <{root.tag}>")
    fields: dict[str, str] = {}
    for child in root:
        # Two <Encrypt>s would leave it ambiguous which one was signed.
        if child.tag in fields:
            raise MessageCryptoError("malformed_xml", f"duplicate <{child.tag}>")
        fields[child.tag] = child.text or ""
    return fields


def _check_param(name: str, value: object) -> None:
    # Non-ASCII would make hmac.compare_digest raise TypeError rather than answer.
    if not isinstance(value, str) or not value or len(value) > MAX_PARAM_LEN or not value.isascii():
        raise MessageCryptoError("bad_param", name)


def _sha1_sorted(*parts: str) -> str:
    joined = "".join(sorted(parts)).encode("utf-8", "surrogatepass")
    return hashlib.sha1(joined).hexdigest()  # noqa: S324 - the protocol fixes SHA-1


class MessageCrypto:
    def __init__(self, token: str, encoding_aes_key: str, appid: str) -> None:
        # A bad key is a configuration mistake: fail at startup, not per request.
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except (binascii.Error, ValueError, TypeError):
            key = b""
        if len(encoding_aes_key) != 43 or len(key) != 32:
            raise ValueError("EncodingAESKey must be 43 base64 characters decoding to 32 bytes")
        self.token = token
        self.appid = appid
        self._key = key

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def signature(self, timestamp: str, nonce: str, encrypt: str) -> str:
        return _sha1_sorted(self.token, timestamp, nonce, encrypt)

    def verify_signature(
        self, msg_signature: str, timestamp: str, nonce: str, encrypt: str
    ) -> None:
        _check_param("msg_signature", msg_signature)
        _check_param("timestamp", timestamp)
        _check_param("nonce", nonce)
        if not isinstance(encrypt, str):
            raise MessageCryptoError("missing_encrypt")
        expected = self.signature(timestamp, nonce, encrypt)
        if not hmac.compare_digest(expected, msg_signature):
            raise MessageCryptoError("bad_signature")

    def encrypt(self, plaintext: str, *, random16: bytes | None = None) -> str:
        if random16 is None:
            # WeChat and the official SDKs use 16 alphanumeric characters; mimic that.
            random16 = "".join(secrets.choice(_ALNUM) for _ in range(16)).encode("ascii")
        if len(random16) != 16:
            raise ValueError("random16 must be 16 bytes")
        try:
            msg = plaintext.encode("utf-8")
        except UnicodeEncodeError:
            raise MessageCryptoError("not_utf8") from None
        full = random16 + len(msg).to_bytes(4, "big") + msg + self.appid.encode("utf-8")
        pad = BLOCK - len(full) % BLOCK
        enc = self._cipher().encryptor()
        out = base64.b64encode(enc.update(full + bytes([pad]) * pad) + enc.finalize()).decode()
        if len(out) > MAX_ENCRYPT_LEN:  # we would refuse it ourselves on the way back
            raise MessageCryptoError("too_large")
        return out

    def decrypt(self, encrypt_b64: str) -> str:
        # No padding-oracle concern in practice: pushes reach here only after verify_signature,
        # which needs the secret token.
        if not isinstance(encrypt_b64, str):
            raise MessageCryptoError("missing_encrypt")
        if len(encrypt_b64) > MAX_ENCRYPT_LEN:
            raise MessageCryptoError("too_large")
        try:
            data = base64.b64decode(encrypt_b64, validate=True)
        except (binascii.Error, ValueError):
            raise MessageCryptoError("bad_base64") from None
        if not data or len(data) % 16:
            raise MessageCryptoError("bad_ciphertext", f"{len(data)} bytes")
        dec = self._cipher().decryptor()
        plain = dec.update(data) + dec.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise MessageCryptoError("bad_padding")
        full = plain[:-pad]
        if len(full) < 20:
            raise MessageCryptoError("bad_length", "no length field")
        msg_len = int.from_bytes(full[16:20], "big")
        if 20 + msg_len > len(full):
            raise MessageCryptoError("bad_length", f"msg_len {msg_len} > {len(full) - 20}")
        if full[20 + msg_len :] != self.appid.encode("utf-8"):
            raise MessageCryptoError("appid_mismatch")
        try:
            return full[20 : 20 + msg_len].decode("utf-8")
        except UnicodeDecodeError:
            raise MessageCryptoError("not_utf8") from None

    def decrypt_push(self, *, body: bytes, msg_signature: str, timestamp: str, nonce: str) -> str:
        """Verify and decrypt a push; return the inner XML."""
        # Query params first: a request missing them is a 400 whatever its body.
        _check_param("msg_signature", msg_signature)
        _check_param("timestamp", timestamp)
        _check_param("nonce", nonce)
        if not isinstance(body, bytes | bytearray):
            raise MessageCryptoError("malformed_xml", "body is not bytes")
        if len(body) > MAX_BODY_LEN:
            raise MessageCryptoError("too_large")
        try:
            text = bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            raise MessageCryptoError("not_utf8") from None
        envelope = parse_xml_fields(text)
        if "Encrypt" not in envelope:
            raise MessageCryptoError("missing_encrypt")
        encrypt = envelope["Encrypt"]
        if len(encrypt) > MAX_ENCRYPT_LEN:
            raise MessageCryptoError("too_large")
        self.verify_signature(msg_signature, timestamp, nonce, encrypt)
        # The envelope AppId is not signed, but a mismatch means the push is not for us.
        if "AppId" in envelope and envelope["AppId"] != self.appid:
            raise MessageCryptoError("appid_mismatch", "envelope AppId")
        return self.decrypt(encrypt)

    def encrypt_push(
        self, plaintext: str, *, timestamp: str | None = None, nonce: str | None = None
    ) -> tuple[dict[str, str], bytes]:
        """Query params and body of a push as WeChat sends it (used by the sandbox)."""
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or str(secrets.randbelow(9 * 10**9) + 10**9)  # WeChat's nonces are digits
        encrypt = self.encrypt(plaintext)
        params = {
            "signature": _sha1_sorted(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "encrypt_type": "aes",
            "msg_signature": self.signature(timestamp, nonce, encrypt),
        }
        body = (
            f"<xml><AppId><![CDATA[{self.appid}]]></AppId>"
            f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        )
        return params, body.encode("utf-8")
