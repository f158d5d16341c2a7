"""A Web Push service of our own on 127.0.0.1, doing what a real one does with each request:
check the VAPID JWT (RFC 8292) against the key it names, then hand the encrypted body to
the "browser", which decrypts it (RFC 8291, aes128gcm) with the subscription's private key.
It can be told to answer 410 (gone), 429 or 5xx instead."""

import base64
import json
import os
import threading
import time
import uuid
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def vapid_key_pair() -> tuple[str, str]:
    """(public, private) as the environment holds them (what `manage.py vapid_keys` prints)."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(public), b64url(key.private_numbers().private_value.to_bytes(32, "big"))


class Browser:
    """One subscription's secrets, as the browser keeps them."""

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)

    @property
    def p256dh(self) -> str:
        return b64url(
            self.key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    def decrypt(self, body: bytes) -> dict:
        return json.loads(
            http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm")
        )


class PushService:
    def __init__(self, vapid_public_key: str):
        self.vapid_public_key = vapid_public_key
        self.browsers: dict[str, Browser] = {}
        self.delivered: list[tuple[str, dict]] = []  # (subscription id, payload)
        self.rejected: list[tuple[str, int, str]] = []  # (id, status, why)
        self.replies: dict[str, deque] = defaultdict(deque)  # status codes to answer first
        self.gone: set[str] = set()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def browser(self) -> tuple[str, Browser]:
        sub_id = uuid.uuid4().hex
        browser = Browser(f"{self.origin}/push/{sub_id}")
        self.browsers[sub_id] = browser
        return sub_id, browser

    def payloads_for(self, sub_id):
        with self.lock:
            return [payload for sid, payload in self.delivered if sid == sub_id]

    # What a push service checks ------------------------------------------------------

    def vapid_problem(self, authorization: str) -> str:
        """Empty when the VAPID header is right; otherwise what is wrong."""
        if not authorization.startswith("vapid "):
            return "no vapid authorization"
        parts = dict(
            part.strip().split("=", 1) for part in authorization[len("vapid ") :].split(",")
        )
        token, key = parts.get("t", ""), parts.get("k", "")
        if key != self.vapid_public_key:
            return "unknown application server key"
        header, claims, signature = token.split(".")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
        raw = unb64url(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        try:
            public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return "bad JWT signature"
        if json.loads(unb64url(header)).get("alg") != "ES256":
            return "JWT is not ES256"
        body = json.loads(unb64url(claims))
        if body.get("aud") != self.origin:
            return f"wrong audience {body.get('aud')}"
        if not time.time() < body.get("exp", 0) <= time.time() + 24 * 3600:
            return "expiry not within 24 hours"
        if not str(body.get("sub", "")).startswith(("mailto:", "https:")):
            return "no contact (sub)"
        return ""

    def _handler(self):
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status):
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                sub_id = self.path.rsplit("/", 1)[-1]
                browser = service.browsers.get(sub_id)
                with service.lock:
                    queued = service.replies[sub_id].popleft() if service.replies[sub_id] else None
                if browser is None or sub_id in service.gone:
                    return self._answer(410)
                problem = service.vapid_problem(self.headers.get("Authorization", ""))
                if not problem and self.headers.get("Content-Encoding") != "aes128gcm":
                    problem = "not aes128gcm"
                if not problem and "TTL" not in self.headers:
                    problem = "no TTL"
                if problem:
                    with service.lock:
                        service.rejected.append((sub_id, 403, problem))
                    return self._answer(403)
                if queued is not None:
                    with service.lock:
                        service.rejected.append((sub_id, queued, "told to"))
                    return self._answer(queued)
                payload = browser.decrypt(body)
                with service.lock:
                    service.delivered.append((sub_id, payload))
                self._answer(201)

        return Handler
