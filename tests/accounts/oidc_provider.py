"""A small OpenID Connect provider on 127.0.0.1 for the tests: discovery, an authorization
endpoint with a plain HTML sign-in form, the token endpoint (authorization code with PKCE S256,
client_secret_post), JWKS, userinfo and end_session. ID tokens are RS256 JWTs signed with
joserfc (authlib's JOSE library) by a key made for each provider.

The test sets its users and their groups, and switches that make the next ID token tampered
(bad signature), expired, for another audience or with another nonce."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey


@dataclass
class ProviderUser:
    username: str
    password: str
    groups: list[str]
    sub: str = field(default_factory=lambda: secrets.token_hex(8))
    email: str = ""
    given_name: str = ""
    family_name: str = ""


class OidcProvider:
    CLIENT_ID = "c360-steward"
    CLIENT_SECRET = "test-client-secret"  # noqa: S105

    def __init__(self) -> None:
        self.users: dict[str, ProviderUser] = {}
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})
        # the next ID tokens: "tampered", "expired", "wrong_audience", "wrong_nonce" or None
        self.token_fault: str | None = None
        # sign in whoever is named here without showing the form (the test client's flows)
        self.auto_sign_in: str | None = None
        self.end_session_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self._codes: dict[str, dict] = {}
        self._access_tokens: dict[str, str] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> OidcProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_user(
        self,
        username: str,
        password: str = "pw",  # noqa: S107
        groups: list[str] | None = None,
        **kw,
    ) -> ProviderUser:
        user = ProviderUser(username=username, password=password, groups=list(groups or []), **kw)
        self.users[username] = user
        return user

    # --- what the endpoints answer -------------------------------------------------------------
    def discovery(self) -> dict:
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "userinfo_endpoint": f"{self.url}/userinfo",
            "jwks_uri": f"{self.url}/jwks",
            "end_session_endpoint": f"{self.url}/logout",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
        }

    def claims_of(self, user: ProviderUser) -> dict:
        return {
            "sub": user.sub,
            "preferred_username": user.username,
            "email": user.email,
            "given_name": user.given_name,
            "family_name": user.family_name,
            "groups": list(user.groups),
        }

    def _issue_code(self, user: ProviderUser, params: dict[str, str]) -> str:
        code = secrets.token_urlsafe(16)
        self._codes[code] = {"user": user.username, **params}
        return code

    def _id_token(self, user: ProviderUser, nonce: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": self.CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            **self.claims_of(user),
        }
        if self.token_fault == "expired":
            claims.update(iat=now - 7200, exp=now - 3600)
        elif self.token_fault == "wrong_audience":
            claims["aud"] = "another-client"
        elif self.token_fault == "wrong_nonce":
            claims["nonce"] = "not-the-nonce-of-this-sign-in"
        token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, self.key)
        if self.token_fault == "tampered":
            # the claims changed after signing: the signature no longer fits
            header, payload, signature = token.split(".")
            body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            body["groups"] = [*body["groups"], "c360-admins"]
            payload = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
            token = f"{header}.{payload}.{signature}"
        return token

    def _token(self, form: dict[str, str]) -> tuple[int, dict]:
        self.token_requests.append(form)
        if form.get("client_id") != self.CLIENT_ID or form.get("client_secret") != self.CLIENT_SECRET:
            return 401, {"error": "invalid_client"}
        grant = self._codes.pop(form.get("code", ""), None)
        if grant is None or form.get("grant_type") != "authorization_code":
            return 400, {"error": "invalid_grant"}
        if form.get("redirect_uri") != grant.get("redirect_uri"):
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri"}
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if grant.get("code_challenge_method") != "S256" or challenge != grant.get("code_challenge"):
            return 400, {"error": "invalid_grant", "error_description": "PKCE"}
        user = self.users[grant["user"]]
        access = secrets.token_urlsafe(16)
        self._access_tokens[access] = user.username
        return 200, {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": self._id_token(user, grant.get("nonce", "")),
        }

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _send(self, status: int, body: str | dict, content_type: str = "application/json") -> None:
                data = (json.dumps(body) if isinstance(body, dict) else body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

            def _redirect(self, url: str) -> None:
                self.send_response(302)
                self.send_header("Location", url)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _form(self) -> dict[str, str]:
                length = int(self.headers.get("Content-Length") or 0)
                return {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    self._send(200, provider.discovery())
                elif url.path == "/jwks":
                    self._send(200, {"keys": [provider.key.as_dict(private=False)]})
                elif url.path == "/authorize":
                    if query.get("client_id") != provider.CLIENT_ID or query.get("response_type") != "code":
                        self._send(400, "unknown client", "text/plain")
                    elif provider.auto_sign_in:
                        self._grant(provider.users[provider.auto_sign_in], query)
                    else:
                        self._send(200, self._login_page(query, error=""), "text/html; charset=utf-8")
                elif url.path == "/userinfo":
                    token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    username = provider._access_tokens.get(token)
                    if username is None:
                        self._send(401, {"error": "invalid_token"})
                    else:
                        self._send(200, provider.claims_of(provider.users[username]))
                elif url.path == "/logout":
                    provider.end_session_requests.append(query)
                    target = query.get("post_logout_redirect_uri")
                    if target:
                        self._redirect(target)
                    else:
                        self._send(200, "<p>Signed out.</p>", "text/html")
                else:
                    self._send(404, "not found", "text/plain")

            def do_POST(self) -> None:
                url = urlsplit(self.path)
                form = self._form()
                if url.path == "/token":
                    status, body = provider._token(form)
                    self._send(status, body)
                elif url.path == "/authorize":
                    user = provider.users.get(form.get("username", ""))
                    if user is None or user.password != form.get("password"):
                        self._send(
                            200, self._login_page(form, error="Wrong username or password."), "text/html"
                        )
                    else:
                        self._grant(user, form)
                else:
                    self._send(404, "not found", "text/plain")

            def _grant(self, user: ProviderUser, params: dict[str, str]) -> None:
                keep = ("redirect_uri", "nonce", "code_challenge", "code_challenge_method", "state")
                code = provider._issue_code(user, {k: params.get(k, "") for k in keep})
                self._redirect(
                    f"{params['redirect_uri']}?{urlencode({'code': code, 'state': params['state']})}"
                )

            def _login_page(self, params: dict[str, str], error: str) -> str:
                keep = (
                    "client_id",
                    "redirect_uri",
                    "nonce",
                    "code_challenge",
                    "code_challenge_method",
                    "state",
                )
                hidden = "".join(
                    f'<input type="hidden" name="{k}" value="{html.escape(params.get(k, ""))}">' for k in keep
                )
                return (
                    "<!doctype html><html><head><title>Test identity provider</title></head><body>"
                    "<h1>Test identity provider</h1>"
                    f"{f'<p role=alert>{html.escape(error)}</p>' if error else ''}"
                    '<form method="post" action="/authorize">'
                    f"{hidden}"
                    '<p><label>Provider username <input name="username"></label></p>'
                    '<p><label>Provider password <input name="password" type="password"></label></p>'
                    '<p><button type="submit">Sign in at the provider</button></p></form></body></html>'
                )

        return Handler
