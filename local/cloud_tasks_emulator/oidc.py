"""OIDC tokens as Cloud Tasks and Cloud Scheduler send them, signed with the emulator's own key.

The real service signs with Google's keys, which the handlers fetch from Google's certificate endpoint;
the emulator makes an RSA key at start and publishes its certificate in the same format
(`GET /_emulator/certs`: {key id: X.509 PEM}), so the handlers verify every local call with the very
code they run in production, only the certificate URL differs (TASKS_OIDC_CERTS_URL).
"""

from __future__ import annotations

import datetime as dt
import secrets
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt

ISSUER = "https://accounts.google.com"
TOKEN_LIFETIME = 3600


class TokenSigner:
    """The emulator's signing key, its certificate, and the ID tokens it signs."""

    def __init__(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.key_id = secrets.token_hex(20)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cloud-tasks-emulator")])
        now = dt.datetime.now(dt.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .sign(key, hashes.SHA256())
        )
        self.certificate_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
        private_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self._signer = crypt.RSASigner.from_string(private_pem, key_id=self.key_id)

    def certs(self) -> dict[str, str]:
        """What Google's https://www.googleapis.com/oauth2/v1/certs answers, for this key."""
        return {self.key_id: self.certificate_pem}

    def token(self, service_account_email: str, audience: str, issued_at: float | None = None) -> str:
        """An ID token for the service account, as Cloud Tasks attaches to a task's request. Wall-clock
        iat/exp: handlers check expiry against their own (real) clock."""
        now = int(issued_at if issued_at is not None else time.time())
        payload = {
            "aud": audience,
            "azp": service_account_email,
            "email": service_account_email,
            "email_verified": True,
            "exp": now + TOKEN_LIFETIME,
            "iat": now,
            "iss": ISSUER,
            "sub": service_account_email,
        }
        return jwt.encode(self._signer, payload).decode()
