"""Fuzzing the authorization-event receiver (SPEC 4.1) with hypothesis.

Every input starts from a valid push built with the product's own MessageCrypto and is then
forged, truncated, re-padded, re-signed with the wrong token (or the right one over a broken
message), blown up, or replayed. Counted: inputs tried, 5xx seen (must be 0), and state
changes caused by input the receiver refused (must be 0). Only a replay of the one valid
push may be acknowledged, and it must not be applied again.
"""

from __future__ import annotations

import base64
import time
from collections import Counter
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from component.models import ComponentEvent
from sandbox.pusher import event_xml
from wechat.crypto import MAX_BODY_LEN, MAX_ENCRYPT_LEN, MessageCrypto

from .state import changed_tables, state_fingerprint

pytestmark = pytest.mark.django_db

URL = "/wechat/component/events/"


def _crypto(token: str | None = None, appid: str | None = None) -> MessageCrypto:
    return MessageCrypto(
        token or settings.WECHAT_COMPONENT_TOKEN,
        settings.WECHAT_COMPONENT_ENCODING_AES_KEY,
        appid or settings.WECHAT_COMPONENT_APPID,
    )


def _envelope(encrypt: str, appid: str | None = None) -> bytes:
    appid = appid or settings.WECHAT_COMPONENT_APPID
    return (
        f"<xml><AppId><![CDATA[{appid}]]></AppId><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    ).encode()


def _signed(encrypt: str, *, token: str | None = None, appid: str | None = None):
    """Params and body for this Encrypt, signed with `token` (default: the right one)."""
    crypto = _crypto(token)
    timestamp, nonce = str(int(time.time())), "1234567890"
    params = {
        "timestamp": timestamp,
        "nonce": nonce,
        "encrypt_type": "aes",
        "msg_signature": crypto.signature(timestamp, nonce, encrypt),
    }
    return params, _envelope(encrypt, appid)


def _raw_encrypt(plain: bytes) -> str:
    """AES-CBC with the component's key and no padding of our own (the caller pads)."""
    key = base64.b64decode(settings.WECHAT_COMPONENT_ENCODING_AES_KEY + "=")
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


def _frame(xml: bytes, appid: bytes | None = None) -> bytes:
    appid = settings.WECHAT_COMPONENT_APPID.encode() if appid is None else appid
    return b"R" * 16 + len(xml).to_bytes(4, "big") + xml + appid


def _valid_xml() -> str:
    return event_xml(
        settings.WECHAT_COMPONENT_APPID,
        "component_verify_ticket",
        int(time.time()),
        {"ComponentVerifyTicket": "ticket@@@fuzz-valid-0001"},
    )


# -- mutations: each returns (kind, params, body, may_be_accepted) -------------------------------


@st.composite
def forged(draw, valid):
    params, body = valid
    choice = draw(st.integers(0, 2))
    if choice == 0:
        params = {**params, "msg_signature": draw(st.text(min_size=0, max_size=60))}
    elif choice == 1:
        body = draw(st.binary(max_size=2000))
    else:
        params = draw(
            st.dictionaries(
                st.sampled_from(["timestamp", "nonce", "msg_signature", "encrypt_type", "x"]),
                st.text(max_size=200),
            )
        )
    return "forged", params, body, False


@st.composite
def truncated(draw, valid, encrypt):
    params, body = valid
    if draw(st.booleans()):
        return "truncated", params, body[: draw(st.integers(0, len(body) - 1))], False
    # The Encrypt itself cut short, then signed correctly: reaches base64/AES/padding checks.
    cut = encrypt[: draw(st.integers(0, len(encrypt) - 1))]
    return "truncated_resigned", *_signed(cut), False


@st.composite
def repadded(draw, xml: str):
    """The message re-encrypted with a different padding, re-signed with the right token."""
    frame = _frame(xml.encode())
    length = draw(st.integers(1, 64))
    pad = draw(st.binary(min_size=length, max_size=length))
    plain = frame + pad
    plain += b"\x00" * (-len(plain) % 16)  # AES needs whole blocks
    # A padding that happens to strip back to the same frame carries the same message: the
    # receiver may take it, as a replay of the valid push. Anything else must be refused.
    last = plain[-1]
    same_message = 1 <= last <= 32 and plain[-last:] == bytes([last]) * last
    same_message = same_message and plain[:-last] == frame
    return "repadded_resigned", *_signed(_raw_encrypt(plain)), same_message


@st.composite
def wrong_token(draw, xml: str):
    token = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=32))
    if token == settings.WECHAT_COMPONENT_TOKEN:
        token += "x"
    params, body = _crypto(token).encrypt_push(xml)
    return "wrong_token", params, body, False


@st.composite
def oversized(draw, valid, encrypt):
    params, body = valid
    kind = draw(st.integers(0, 2))
    if kind == 0:  # junk after the envelope
        extra = draw(st.integers(MAX_BODY_LEN - len(body) + 1, MAX_BODY_LEN * 2))
        return "oversized_body", params, body + b" " * extra, False
    if kind == 1:  # an Encrypt over the limit, correctly signed
        big = encrypt * (MAX_ENCRYPT_LEN // len(encrypt) + 1)
        return "oversized_encrypt", *_signed(big), False
    # a message that decrypts, with a field far over any sane size
    huge = event_xml(
        settings.WECHAT_COMPONENT_APPID,
        "component_verify_ticket",
        int(time.time()),
        {"ComponentVerifyTicket": "t" * draw(st.integers(513, 40_000))},
    )
    return "oversized_field", *_signed(_raw_encrypt(_pkcs7(_frame(huge.encode())))), False


def _pkcs7(data: bytes) -> bytes:
    pad = 32 - len(data) % 32
    return data + bytes([pad]) * pad


@st.composite
def bad_message(draw):
    """Correctly encrypted and signed, but not a message for us or not a message at all."""
    appid = settings.WECHAT_COMPONENT_APPID
    now = int(time.time())
    choice = draw(st.integers(0, 6))
    if choice == 0:
        other = draw(st.text(alphabet="wx0123456789abcdef", min_size=1, max_size=20))
        xml = event_xml(other if other != appid else other + "0", "unauthorized", now, {})
    elif choice == 1:
        xml = f"<xml><AppId><![CDATA[{appid}]]></AppId><CreateTime>{now}</CreateTime></xml>"
    elif choice == 2:
        xml = (
            '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">]>'
            f"<xml><AppId>{appid}</AppId><InfoType>&a;</InfoType></xml>"
        )
    elif choice == 3:
        xml = draw(st.text(max_size=300))
    elif choice == 4:
        created = draw(st.text(max_size=30).filter(lambda t: not t.strip().lstrip("-").isdigit()))
        xml = event_xml(appid, "component_verify_ticket", 0, {"ComponentVerifyTicket": "t"})
        xml = xml.replace(
            "<CreateTime>0</CreateTime>", f"<CreateTime><![CDATA[{created}]]></CreateTime>"
        )
    elif choice == 5:  # the frame's appid is not ours
        frame = _frame(_valid_xml().encode(), draw(st.binary(max_size=30)))
        if frame.endswith(appid.encode()):
            frame += b"x"
        return "bad_message", *_signed(_raw_encrypt(_pkcs7(frame))), False
    else:  # an authorized push without its code
        xml = event_xml(appid, "authorized", now, {"AuthorizerAppid": "wx1000000000000002"})
    crypto = _crypto()
    try:
        encrypt = crypto.encrypt(xml)
    except Exception:
        return "bad_message", *_signed("not-base64!"), False
    return "bad_message", *_signed(encrypt), False


@st.composite
def envelope_tampered(draw, encrypt):
    params, _ = _signed(encrypt)
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return "envelope", params, _envelope(encrypt, appid="wx0someoneelse"), False
    if choice == 1:
        encrypt_type = draw(st.text(max_size=10).filter(lambda t: t != "aes"))
        return "envelope", {**params, "encrypt_type": encrypt_type}, _envelope(encrypt), False
    if choice == 2:
        body = _envelope(encrypt).replace(b"</xml>", b"<Encrypt>x</Encrypt></xml>")
        return "envelope", params, body, False
    junk = draw(st.binary(min_size=1, max_size=64))
    # Trailing whitespace is still the same well-formed document: a valid push.
    return "envelope", params, _envelope(encrypt) + junk, junk.isspace()


def _mutations(valid, encrypt, xml):
    return st.one_of(
        forged(valid),
        truncated(valid, encrypt),
        repadded(xml),
        wrong_token(xml),
        oversized(valid, encrypt),
        bad_message(),
        envelope_tampered(encrypt),
        st.just(("replayed", *valid, True)),
    )


def test_receiver_fuzz(profile, resilience_figures):
    client = Client(raise_request_exception=False)
    xml = _valid_xml()
    crypto = _crypto()
    valid = crypto.encrypt_push(xml)
    encrypt = crypto.encrypt(xml)  # another valid Encrypt of the same message
    first = client.post(f"{URL}?{urlencode(valid[0])}", data=valid[1], content_type="text/xml")
    assert (first.status_code, first.content) == (200, b"success")
    assert ComponentEvent.objects.count() == 1
    baseline = state_fingerprint()
    tried: Counter = Counter()
    statuses: Counter = Counter()
    server_errors: list[str] = []
    invalid_changes: list[str] = []
    forged_accepted: list[str] = []

    @hsettings(
        max_examples=profile.fuzz_examples,
        deadline=None,
        database=None,
        derandomize=profile.name == "short",
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_mutations(valid, encrypt, xml))
    def run(case):
        kind, params, body, may_be_accepted = case
        tried[kind] += 1
        # Some mutated params are not even valid query text: urlencode handles any str.
        url = f"{URL}?{urlencode(params)}" if params else URL
        response = client.post(url, data=body, content_type="text/xml")
        statuses[response.status_code] += 1
        if response.status_code >= 500:
            server_errors.append(f"{kind}: {response.status_code}")
        elif response.status_code == 200 and not may_be_accepted:
            forged_accepted.append(kind)
        changed = changed_tables(baseline, state_fingerprint())
        if changed:
            invalid_changes.append(f"{kind} (HTTP {response.status_code}): {changed}")

    run()
    resilience_figures.record(
        f"fuzz receiver ({profile.name})",
        kind="fuzz",
        inputs_tried=sum(tried.values()),
        by_mutation=dict(sorted(tried.items())),
        statuses=dict(sorted(statuses.items())),
        http_5xx=len(server_errors),
        state_changes_from_invalid=len(invalid_changes),
        invalid_accepted=len(forged_accepted),
    )
    assert server_errors == []
    assert invalid_changes == [], invalid_changes[:5]
    assert forged_accepted == [], Counter(forged_accepted)
    # One event; every acknowledged input was a replay of it, counted as such.
    assert ComponentEvent.objects.count() == 1
    assert ComponentEvent.objects.get().replays == statuses[200]
