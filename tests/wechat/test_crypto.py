"""WXBizMsgCrypt: published vectors (official docs, wechatpy, the official sample), bad inputs,
wechatpy interop."""

import base64
import contextlib

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import example, given, settings
from hypothesis import strategies as st
from wechatpy.crypto import PrpCrypto, WeChatCrypto

from wechat.crypto import (
    MAX_ENCRYPT_LEN,
    MessageCrypto,
    MessageCryptoError,
    parse_xml_fields,
)

# Vector A: official third-party platform example (message URL, so the envelope has ToUserName).
A_TOKEN = "AAAAA"
A_KEY = "A" * 43
A_APPID = "wx134c8103faa5a59e"
A_TIMESTAMP = "1715943329"
A_NONCE = "1590219412"
A_SIGNATURE = "cc0c594499c1634947d5b502f158ee518947db27"
A_MSG_SIGNATURE = "6c12a4205838198b8fa631b3220723bb07f1015c"
A_ENCRYPT = (
    "D7yzvUNAL930rd28wf21s4hvXhz0L6Uit/p2Di6C5DHyYGpEgdBRnKjBec34JwoQXicwaZC7fOVihW80F4Vtsdv"
    "E//1vr7oAbqjDv8KenVp+ajKYpJnyQ4zMRhIC+a31fCVOMC03FfzV/QuC94kBP55a+Za3sJgvAn+ZbsNqZI5Dky"
    "uzkhQN8OBqCzFhizGmy0xpM0MEA4agpvE+RuNO1rhHTtuJB5yltw1FiYzecSXJ+y/D2r81VkRn2eYjh2ltsoyfb"
    "DR7Is6ookXIFxTfyeNyeHxMeT4KN5WpCDmSbTcUYrbBUlkGLJ9n/rU8YOywma6G7aTb7KZKOqCxgfoUlYEZPk4F"
    "UL/TK7ShriFDMVCLyjQJ15Ob++agDWtcxhfUfe6HIoIpRW8mKNBQiY/Jd1svvuskA1wLef1RTtzKfMpagSCX/la"
    "ZINmdnX4zrF6kIaR9P4xQrWXbsTFHTYe0Mg=="
)
A_MSG = (
    "<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName>\n"
    "<FromUserName><![CDATA[o9AgO5Kd5ggOC-bXrbNODIiE3bGY]]></FromUserName>\n"
    "<CreateTime>1715943329</CreateTime>\n"
    "<MsgType><![CDATA[event]]></MsgType>\n"
    "<Event><![CDATA[debug_demo]]></Event>\n"
    "<debug_str><![CDATA[hello world]]></debug_str>\n"
    "</xml>"
)
# The reply half of vector A: deterministic, so an encryption vector.
A_REPLY_RANDOM16 = b"999951349e8ee746"
A_REPLY_MSG = "<xml><demo_resp>[CDATA[good luck]]</demo_resp></xml>"
A_REPLY_TIMESTAMP = "1713424427"
A_REPLY_NONCE = "415670741"
A_REPLY_ENCRYPT = (
    "hE8R6mGXHkJJjU72KxzKUd1GEkKJaEZq7vRL8XgK3o+00k8JGq6+pZJUIlTSyhsX+bxIBQ72g3GyvDdIZcr6+3HAZ"
    "bSvPT9t/o11MI7d6WELwqrGd7jMnV0zv3Zc9Nq7"
)
A_REPLY_MSG_SIGNATURE = "03e0812039325c2712ef5f0f980fd14c70d6e307"

# Vector C: the official WXBizMsgCrypt demo.py.
C_TOKEN = "spamtest"
C_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
C_APPID = "wx2c2769f8efd9abc2"
C_TIMESTAMP = "1409735669"
C_NONCE = "1320562132"
C_MSG_SIGNATURE = "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
C_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F"
    "8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332j"
    "isa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavj"
    "IQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ"
    "4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
)

# Vector D: third-party platform pushes (miaoxing/wechat tests), pretty-printed envelopes.
D_TOKEN = "weixin"
D_KEY = C_KEY
D_APPID = "wx9eeba14a01d3807f"
D_TIMESTAMP = "1445308253"
D_NONCE = "2062414594"
D_SIGNATURE = "fc3adbefb75bdc045aa376b2606073186e0abe9b"
D_TICKET_MSG_SIGNATURE = "4d6454ce7140ae24431fe54c8f66b9eee1f69723"
D_TICKET_ENCRYPT = (
    "wlHfmisYl+ktVgWbVpaTU8hCMsWCa6xuenc7seyAMl/2ZN+jjPU8dtZFl4QO6lpde8ltYPLXxd2PqfKGkZPbuhnok"
    "9hhmnBjFGD53Q4k8f1c71FES5/C0btL+6Vf7gl3EgT1hhjSHl5tylx3zo1/FpdF5qeoq0X6vdcXwWyZKg0RUugu2B"
    "oxBrtQTnSpvIQn4r1UuzID2Hu7R8Z9SMN5544tTLgaQ3GhsdLjoGJoRC1HxwvCo2QiPGawUxz+lL2Xp6J6r1hA8cn"
    "KwAUuDUBz7eJ4SWdDNhAdDI9PuKZm23/bSW2x+KQdjx+qQwJ9Qif+rVdHKOE4cObmrtLgaH8v3r57zRnrrUoeM1M8"
    "mAT19nafJHqkQrD28VWk20XEK2Ct096CCnHGUdU9VpA5o+ngMiTze3vRFHGB0I7p4q6IE9WIdCYhb+j7qKx3/IJxN"
    "ILoVBrmLvXAwuRdPJbYXl1mKQ=="
)
D_TICKET = (
    "ticket@@@1S8ekCXqBTTCMFLI9ekk2jh8u3NyelwnQoc_Rbpr3X0gKlGiYKhlQrERhGOrsGJ3OcQnWuszOI7iLwe-"
    "KaMIVA"
)
D_TICKET_MSG = (
    "<xml><AppId><![CDATA[wx9eeba14a01d3807f]]></AppId>\n"
    "<CreateTime>1445308253</CreateTime>\n"
    "<InfoType><![CDATA[component_verify_ticket]]></InfoType>\n"
    f"<ComponentVerifyTicket><![CDATA[{D_TICKET}]]></ComponentVerifyTicket>\n"
    "</xml>"
)
# Not in the doc: copied from the same test file (testUnauthorized); the doc gives its signature
# and plaintext.
D_UNAUTH_MSG_SIGNATURE = "320ef701f94a3b9a0e5dd7fc6cd6c326663091c8"
D_UNAUTH_ENCRYPT = (
    "oPHWw0USRVbHH1e3FH2h+fwRAjz0i34NGo8SIuKqcyrqZGm1Sjf6Q20mRgm7eYC7LaOUIK7PnnmvnMBbeMTLzLYou"
    "l+Nqxz0eJnMIQPtcY6xjk0aw9Cq7QTN16xmeld3gjuV5EEQHfc0eREQu+LZ70/KydHtCBBYGBFKz6dc8IVnb72Taa"
    "XchoZoQ0UQAK91YGfepAZzNUeSmP5mp/tMyv9I0Akh8OcMLeP3uDEJDjlKZyof90bNLeit5MFw1I+2mEF9bbOOR7M"
    "uPX5KGEgInphhLNG/Q1B7az54UlR86T4cVF5/ChSNjLhQwyEfpO+9uqrmt0QkrJ5rXlHmwRGJtzwuZc0x9n4M38/K"
    "CLt93//ZEPu4rpSnJEHfkF+LAXV0"
)
D_UNAUTH_MSG = (
    '<?xml version="1.0"?>\n'
    "<xml><AppId><![CDATA[wx9eeba14a01d3807f]]></AppId>"
    "<AuthorizerAppid><![CDATA[wx570bc396a51b8ff8]]></AuthorizerAppid>"
    "<CreateTime>1445303136</CreateTime>"
    "<InfoType><![CDATA[unauthorized]]></InfoType></xml>\n"
)


def d_envelope(encrypt: str, appid: str = D_APPID) -> bytes:
    # Byte-for-byte the pretty-printed envelope of the PHP test.
    return (
        f"<xml>\n    <AppId><![CDATA[{appid}]]></AppId>\n"
        f"    <Encrypt><![CDATA[{encrypt}]]></Encrypt>\n</xml>"
    ).encode()


@pytest.fixture
def a_crypto() -> MessageCrypto:
    return MessageCrypto(A_TOKEN, A_KEY, A_APPID)


@pytest.fixture
def d_crypto() -> MessageCrypto:
    return MessageCrypto(D_TOKEN, D_KEY, D_APPID)


D_AES_KEY = base64.b64decode(D_KEY + "=")


def raw_encrypt(plain: bytes) -> str:
    """AES-CBC with vector D's key over bytes laid out by hand, to forge padding/length/appid."""
    key = D_AES_KEY
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


def layout(msg: bytes, appid: bytes, *, msg_len: int | None = None) -> bytes:
    full = b"R" * 16 + (len(msg) if msg_len is None else msg_len).to_bytes(4, "big") + msg + appid
    pad = 32 - len(full) % 32
    return full + bytes([pad]) * pad


# --- vectors ---------------------------------------------------------------------------------


def test_vector_a_decrypts_exactly(a_crypto):
    msg = a_crypto.decrypt(A_ENCRYPT)
    assert msg == A_MSG
    assert len(msg.encode()) == 292


def test_vector_a_signatures(a_crypto):
    assert a_crypto.signature(A_TIMESTAMP, A_NONCE, A_ENCRYPT) == A_MSG_SIGNATURE
    a_crypto.verify_signature(A_MSG_SIGNATURE, A_TIMESTAMP, A_NONCE, A_ENCRYPT)
    # The 3-part URL `signature` encrypt_push emits matches the one in the vector's URL.
    params, _ = a_crypto.encrypt_push("x", timestamp=A_TIMESTAMP, nonce=A_NONCE)
    assert params["signature"] == A_SIGNATURE


def test_vector_a_as_message_push_with_tousername(a_crypto):
    body = (
        "<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName>\n"
        f"<Encrypt><![CDATA[{A_ENCRYPT}]]></Encrypt>\n</xml>"
    ).encode()
    msg = a_crypto.decrypt_push(
        body=body, msg_signature=A_MSG_SIGNATURE, timestamp=A_TIMESTAMP, nonce=A_NONCE
    )
    assert parse_xml_fields(msg)["debug_str"] == "hello world"


def test_vector_a_reply_is_an_exact_encryption_vector(a_crypto):
    # random16 is the 16 ASCII characters, not 8 hex-decoded bytes.
    encrypt = a_crypto.encrypt(A_REPLY_MSG, random16=A_REPLY_RANDOM16)
    assert encrypt == A_REPLY_ENCRYPT
    assert len(base64.b64decode(encrypt)) == 96
    assert a_crypto.signature(A_REPLY_TIMESTAMP, A_REPLY_NONCE, encrypt) == A_REPLY_MSG_SIGNATURE
    assert a_crypto.decrypt(A_REPLY_ENCRYPT) == A_REPLY_MSG


def test_vector_c_decrypts_and_verifies():
    crypto = MessageCrypto(C_TOKEN, C_KEY, C_APPID)
    crypto.verify_signature(C_MSG_SIGNATURE, C_TIMESTAMP, C_NONCE, C_ENCRYPT)
    fields = parse_xml_fields(crypto.decrypt(C_ENCRYPT))
    assert fields["Content"] == "abcdteT"
    assert fields["MsgId"] == "6054768590064713728"


def test_vector_d_ticket_push(d_crypto):
    msg = d_crypto.decrypt_push(
        body=d_envelope(D_TICKET_ENCRYPT),
        msg_signature=D_TICKET_MSG_SIGNATURE,
        timestamp=D_TIMESTAMP,
        nonce=D_NONCE,
    )
    assert msg == D_TICKET_MSG
    assert parse_xml_fields(msg) == {
        "AppId": D_APPID,
        "CreateTime": "1445308253",
        "InfoType": "component_verify_ticket",
        "ComponentVerifyTicket": D_TICKET,
    }
    params, _ = d_crypto.encrypt_push("x", timestamp=D_TIMESTAMP, nonce=D_NONCE)
    assert params["signature"] == D_SIGNATURE


def test_vector_d_unauthorized_push_with_xml_prolog(d_crypto):
    msg = d_crypto.decrypt_push(
        body=d_envelope(D_UNAUTH_ENCRYPT),
        msg_signature=D_UNAUTH_MSG_SIGNATURE,
        timestamp=D_TIMESTAMP,
        nonce=D_NONCE,
    )
    assert msg == D_UNAUTH_MSG
    fields = parse_xml_fields(msg)
    assert fields["InfoType"] == "unauthorized"
    assert fields["AuthorizerAppid"] == "wx570bc396a51b8ff8"
    assert fields["CreateTime"] == "1445303136"  # stays a string


# --- round trips -----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, database=None)
@given(st.text())
@example("")
@example("x" * 32)
@example("x" * 64)
@example("x" * (64 - 20 - len(A_APPID)))  # FullStr a multiple of 32: a whole block of padding
@example("微信" * 16)
def test_round_trip_any_text(text):
    crypto = MessageCrypto(A_TOKEN, A_KEY, A_APPID)
    assert crypto.decrypt(crypto.encrypt(text)) == text


@pytest.mark.parametrize("n", range(0, 70))
def test_round_trip_every_padding_length(a_crypto, n):
    encrypt = a_crypto.encrypt("x" * n)
    full_len = 16 + 4 + n + len(A_APPID)
    assert len(base64.b64decode(encrypt)) == (full_len // 32 + 1) * 32
    assert a_crypto.decrypt(encrypt) == "x" * n


@settings(max_examples=100, deadline=None, database=None)
@given(st.text(max_size=300))
def test_push_round_trip(text):
    crypto = MessageCrypto(D_TOKEN, D_KEY, D_APPID)
    params, body = crypto.encrypt_push(text)
    assert params["encrypt_type"] == "aes"
    assert body.startswith(b"<xml><AppId><![CDATA[wx9eeba14a01d3807f]]></AppId><Encrypt><![CDATA[")
    got = crypto.decrypt_push(
        body=body,
        msg_signature=params["msg_signature"],
        timestamp=params["timestamp"],
        nonce=params["nonce"],
    )
    assert got == text


def test_default_random16_differs_each_time(a_crypto):
    assert a_crypto.encrypt("same") != a_crypto.encrypt("same")


@pytest.mark.parametrize("key", ["A" * 42, "A" * 44, "!" * 43, "A" * 42 + "é", ""])
def test_bad_key_is_a_configuration_error(key):
    with pytest.raises(ValueError):
        MessageCrypto("t", key, "wx")


# --- bad inputs: MessageCryptoError with a reason, never anything else -----------------------


def push(crypto, encrypt, *, appid=D_APPID, timestamp=D_TIMESTAMP, nonce=D_NONCE, sig=None):
    """decrypt_push with a correct signature over `encrypt`, so the error comes from later on."""
    sig = crypto.signature(timestamp, nonce, encrypt) if sig is None else sig
    return crypto.decrypt_push(
        body=d_envelope(encrypt, appid), msg_signature=sig, timestamp=timestamp, nonce=nonce
    )


def assert_reason(reason, fn, *args, **kwargs):
    with pytest.raises(MessageCryptoError) as info:
        fn(*args, **kwargs)
    assert info.value.reason == reason
    return info.value


def test_bad_signature(d_crypto):
    assert_reason("bad_signature", push, d_crypto, D_TICKET_ENCRYPT, sig="0" * 40)


def test_signature_over_other_timestamp_is_bad(d_crypto):
    ticket, sig = D_TICKET_ENCRYPT, D_TICKET_MSG_SIGNATURE
    assert_reason("bad_signature", push, d_crypto, ticket, timestamp="1445308254", sig=sig)


def test_bad_signature_from_verify_signature(d_crypto):
    assert_reason(
        "bad_signature",
        d_crypto.verify_signature,
        D_TICKET_MSG_SIGNATURE,
        D_TIMESTAMP,
        D_NONCE,
        D_UNAUTH_ENCRYPT,
    )


@pytest.mark.parametrize(
    "override",
    [
        {"msg_signature": ""},
        {"msg_signature": None},
        {"timestamp": ""},
        {"timestamp": None},
        {"nonce": ""},
        {"nonce": None},
        {"msg_signature": "é" * 40},  # non-ASCII: compare_digest would raise TypeError
        {"nonce": "1" * 129},
    ],
)
def test_missing_or_invalid_query_params(d_crypto, override):
    kwargs = {
        "body": d_envelope(D_TICKET_ENCRYPT),
        "msg_signature": D_TICKET_MSG_SIGNATURE,
        "timestamp": D_TIMESTAMP,
        "nonce": D_NONCE,
        **override,
    }
    assert_reason("bad_param", d_crypto.decrypt_push, **kwargs)


@pytest.mark.parametrize("encrypt", ["!!!!", "abc", "ab=c", "wlHf mis=", "é" * 8])
def test_bad_base64(d_crypto, encrypt):
    assert_reason("bad_base64", d_crypto.decrypt, encrypt)
    assert_reason("bad_base64", push, d_crypto, encrypt)


@pytest.mark.parametrize("size", [0, 15, 17, 40])
def test_ciphertext_length_not_a_multiple_of_16(d_crypto, size):
    encrypt = base64.b64encode(b"\x01" * size).decode()
    assert_reason("bad_ciphertext", d_crypto.decrypt, encrypt)


@pytest.mark.parametrize("last", [0, 33, 255])
def test_pad_byte_out_of_range(d_crypto, last):
    plain = layout(b"<xml/>", D_APPID.encode())[:-1] + bytes([last])
    assert_reason("bad_padding", d_crypto.decrypt, raw_encrypt(plain))


def test_inconsistent_pad_bytes(d_crypto):
    plain = bytearray(layout(b"<xml/>", D_APPID.encode()))
    assert plain[-1] > 1
    plain[-2] ^= 0xFF
    assert_reason("bad_padding", d_crypto.decrypt, raw_encrypt(bytes(plain)))


def test_pad_longer_than_plaintext(d_crypto):
    plain = b"R" * 15 + bytes([32])  # one AES block claiming 32 bytes of padding
    assert_reason("bad_padding", d_crypto.decrypt, raw_encrypt(plain))


def test_truncated_length_field(d_crypto):
    plain = b"R" * 18 + bytes([14]) * 14  # 18 bytes before padding: no room for 4 length bytes
    assert_reason("bad_length", d_crypto.decrypt, raw_encrypt(plain))


@pytest.mark.parametrize("msg_len", [100, 2**32 - 1])
def test_msg_len_bigger_than_plaintext(d_crypto, msg_len):
    plain = layout(b"<xml/>", D_APPID.encode(), msg_len=msg_len)
    assert_reason("bad_length", d_crypto.decrypt, raw_encrypt(plain))


def test_wrong_trailing_appid(d_crypto):
    other = MessageCrypto(D_TOKEN, D_KEY, "wx0000000000000000")
    assert_reason("appid_mismatch", d_crypto.decrypt, other.encrypt("<xml/>"))
    assert_reason("appid_mismatch", push, d_crypto, other.encrypt("<xml/>"))


def test_wrong_envelope_appid(d_crypto):
    assert_reason("appid_mismatch", push, d_crypto, D_TICKET_ENCRYPT, appid="wx0000000000000000")


def test_non_utf8_message(d_crypto):
    plain = layout(b"<xml>\xff\xfe</xml>", D_APPID.encode())
    assert_reason("not_utf8", d_crypto.decrypt, raw_encrypt(plain))


def test_non_utf8_envelope(d_crypto):
    assert_reason(
        "not_utf8",
        d_crypto.decrypt_push,
        body=b"<xml>\xff</xml>",
        msg_signature="a" * 40,
        timestamp=D_TIMESTAMP,
        nonce=D_NONCE,
    )


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    "<xml><Encrypt>&c;</Encrypt></xml>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    "<xml><Encrypt>&x;</Encrypt></xml>"
)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml",
        b"<xml><Encrypt>abc</Encrypt>",
        b"<root><Encrypt>abc</Encrypt></root>",
        b"<xml><Encrypt>a</Encrypt><Encrypt>b</Encrypt></xml>",
        b'<!DOCTYPE xml SYSTEM "http://example.invalid/x.dtd"><xml/>',
        BILLION_LAUGHS.encode(),
        EXTERNAL_ENTITY.encode(),
    ],
)
def test_malformed_envelope(d_crypto, body):
    assert_reason(
        "malformed_xml",
        d_crypto.decrypt_push,
        body=body,
        msg_signature="a" * 40,
        timestamp=D_TIMESTAMP,
        nonce=D_NONCE,
    )


@pytest.mark.parametrize(
    "text",
    ["", "<xml>", "<a/>", BILLION_LAUGHS, EXTERNAL_ENTITY, "\ud800<xml/>", "<xml><a></xml>"],
)
def test_parse_xml_fields_rejects_bad_xml(text):
    assert_reason("malformed_xml", parse_xml_fields, text)


def test_envelope_without_encrypt(d_crypto):
    assert_reason(
        "missing_encrypt",
        d_crypto.decrypt_push,
        body=b"<xml><AppId>wx9eeba14a01d3807f</AppId></xml>",
        msg_signature="a" * 40,
        timestamp=D_TIMESTAMP,
        nonce=D_NONCE,
    )


def test_oversized_encrypt(d_crypto):
    encrypt = "A" * (MAX_ENCRYPT_LEN + 4)
    assert_reason("too_large", d_crypto.decrypt, encrypt)
    assert_reason("too_large", push, d_crypto, encrypt)


def test_oversized_plaintext_refused_at_encrypt(d_crypto):
    assert_reason("too_large", d_crypto.encrypt, "x" * MAX_ENCRYPT_LEN)


def test_largest_allowed_encrypt_round_trips(d_crypto):
    text = "x" * (MAX_ENCRYPT_LEN * 3 // 4 - 100)
    assert d_crypto.decrypt(d_crypto.encrypt(text)) == text


def test_parse_xml_fields_flat_strings():
    assert parse_xml_fields("<xml><CreateTime>1</CreateTime><Empty/><E><![CDATA[]]></E></xml>") == {
        "CreateTime": "1",
        "Empty": "",
        "E": "",
    }


@settings(max_examples=300, deadline=None, database=None)
@given(st.binary(max_size=400))
def test_fuzz_decrypt_only_raises_message_crypto_error(data):
    crypto = MessageCrypto(D_TOKEN, D_KEY, D_APPID)
    encrypt = raw_encrypt(data[: len(data) // 16 * 16]) if data else ""
    with contextlib.suppress(MessageCryptoError):
        crypto.decrypt(encrypt)


@settings(max_examples=300, deadline=None, database=None)
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_fuzz_push_body_only_raises_message_crypto_error(body):
    crypto = MessageCrypto(D_TOKEN, D_KEY, D_APPID)
    with pytest.raises(MessageCryptoError):
        crypto.decrypt_push(body=body, msg_signature="a" * 40, timestamp="1", nonce="2")


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(max_size=200))
def test_fuzz_decrypt_text_only_raises_message_crypto_error(encrypt):
    crypto = MessageCrypto(D_TOKEN, D_KEY, D_APPID)
    with contextlib.suppress(MessageCryptoError):
        crypto.decrypt(encrypt)


# --- interop with wechatpy (a client that is not ours) ---------------------------------------


def test_wechatpy_decrypts_our_push(d_crypto):
    text = "<xml><InfoType><![CDATA[unauthorized]]></InfoType><Note>授权</Note></xml>"
    params, body = d_crypto.encrypt_push(text, timestamp="1700000000", nonce="123456")
    theirs = WeChatCrypto(D_TOKEN, D_KEY, D_APPID)
    got = theirs.decrypt_message(
        body, params["msg_signature"], params["timestamp"], params["nonce"]
    )
    assert got == text


def test_we_decrypt_wechatpy_message(d_crypto):
    text = "<xml><Content><![CDATA[你好, wechatpy]]></Content></xml>"
    reply = WeChatCrypto(D_TOKEN, D_KEY, D_APPID).encrypt_message(text, "4242", "1700000000")
    fields = parse_xml_fields(reply)
    d_crypto.verify_signature(
        fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"], fields["Encrypt"]
    )
    assert d_crypto.decrypt(fields["Encrypt"]) == text


@settings(max_examples=100, deadline=None, database=None)
@given(st.text(max_size=200))
def test_prpcrypto_interop_both_ways(text):
    crypto = MessageCrypto(D_TOKEN, D_KEY, D_APPID)
    prp = PrpCrypto(D_AES_KEY)
    assert prp.decrypt(crypto.encrypt(text), D_APPID) == text
    assert crypto.decrypt(prp.encrypt(text, D_APPID).decode()) == text
