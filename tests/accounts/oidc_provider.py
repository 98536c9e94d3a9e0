"""A small OpenID Connect provider on 127.0.0.1 for the tests, built on authlib's server side: its
AuthorizationServer with the authorization-code grant, the OpenID Connect extension (ID token,
nonce) and PKCE (S256 required), client_secret_post at the token endpoint. Around it, handwritten
for a plain http.server: discovery, the authorization endpoint's HTML sign-in form, JWKS, userinfo
and end_session (which records what it was sent). ID tokens are RS256, signed by a key made for
each provider (joserfc).

The test sets its users and their groups, and switches that make the next ID token tampered
(bad signature), expired, for another audience or with another nonce."""

from __future__ import annotations

import base64
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from authlib.oauth2 import AuthorizationServer, OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin, OpenIDCode
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
        self._codes: dict[str, _Code] = {}
        self._access_tokens: dict[str, str] = {}
        self.server = _Server(self)
        self.server.register_grant(
            _CodeGrant, [_OpenIDCode(self, require_nonce=True), CodeChallenge(required=True)]
        )
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

    def _authorize(self, user: ProviderUser, params: dict[str, str]) -> tuple[int, str, list]:
        """The authorization endpoint's answer once the person signed in here: authlib checks the
        request (client, redirect_uri, response_type, nonce, code_challenge) and issues the code."""
        request = _Request("GET", f"{self.url}/authorize", params)
        try:
            grant = self.server.get_consent_grant(request, end_user=user)
        except OAuth2Error as error:
            return self.server.handle_error_response(request, error)
        return self.server.create_authorization_response(request, grant_user=user, grant=grant)

    def _token(self, form: dict[str, str]) -> tuple[int, str, list]:
        self.token_requests.append(form)
        status, body, headers = self.server.create_token_response(_Request("POST", f"{self.url}/token", form))
        if status == 200 and self.token_fault == "tampered":
            token = json.loads(body)
            token["id_token"] = _tampered(token["id_token"])
            body = json.dumps(token)
        return status, body, headers

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
                    self._answer(*provider._token(form))
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
                self._answer(*provider._authorize(user, params))

            def _answer(self, status: int, body: str, headers: list) -> None:
                data = (body or "").encode()
                self.send_response(status)
                for name, value in headers:
                    if name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _login_page(self, params: dict[str, str], error: str) -> str:
                keep = (
                    "client_id",
                    "response_type",
                    "scope",
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


def _tampered(id_token: str) -> str:
    """The ID token with a group added after signing: its signature no longer fits."""
    header, payload, signature = id_token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["groups"] = [*body.get("groups", []), "c360-admins"]
    payload = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    return f"{header}.{payload}.{signature}"


# --- authlib's server side, wired to plain dicts -------------------------------------------------
class _Request(OAuth2Request):
    def __init__(self, method: str, uri: str, data: dict[str, str]) -> None:
        super().__init__(method, uri, headers={})
        self.payload = BasicOAuth2Payload(data)
        self._data = data

    @property
    def args(self):
        return self._data if self.method == "GET" else {}

    @property
    def form(self):
        return self._data if self.method == "POST" else {}


class _Client:
    """The one registered client: client_secret_post, code flow, any redirect URI (the test server's
    address changes with each run)."""

    def __init__(self, client_id: str, secret: str) -> None:
        self.client_id, self.secret = client_id, secret

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        return scope

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri.startswith(("http://testserver/", "http://localhost:", "http://127.0.0.1:"))

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(client_secret, self.secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method == "client_secret_post"

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class _Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str
    code_challenge: str
    code_challenge_method: str
    user: ProviderUser
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return None

    def get_amr(self):
        return None


class _Server(AuthorizationServer):
    def __init__(self, provider: OidcProvider) -> None:
        super().__init__(scopes_supported=["openid", "email", "profile"])
        self.provider = provider
        self.client = _Client(provider.CLIENT_ID, provider.CLIENT_SECRET)
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                access_token_generator=lambda **kw: secrets.token_urlsafe(16),
                expires_generator=lambda client, grant_type: 300,
            ),
        )

    def query_client(self, client_id):
        return self.client if client_id == self.client.client_id else None

    def save_token(self, token, request):
        self.provider._access_tokens[token["access_token"]] = request.user.username

    def create_oauth2_request(self, request):
        return request

    def handle_response(self, status, body, headers):
        return status, body if isinstance(body, str) else json.dumps(body), list(headers)

    def send_signal(self, name, *args, **kwargs):
        pass


class _CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_post"]

    def save_authorization_code(self, code, request):
        provider = self.server.provider
        data = request.payload.data
        nonce = data.get("nonce", "")
        if provider.token_fault == "wrong_nonce":
            nonce = "not-the-nonce-of-this-sign-in"
        provider._codes[code] = _Code(
            code=code,
            client_id=request.payload.client_id,
            redirect_uri=data.get("redirect_uri", ""),
            scope=data.get("scope", ""),
            nonce=nonce,
            code_challenge=data.get("code_challenge", ""),
            code_challenge_method=data.get("code_challenge_method", ""),
            user=request.user,
        )

    def query_authorization_code(self, code, client):
        found = self.server.provider._codes.get(code)
        return found if found is not None and found.client_id == client.get_client_id() else None

    def delete_authorization_code(self, authorization_code):
        self.server.provider._codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code):
        return authorization_code.user


class _OpenIDCode(OpenIDCode):
    def __init__(self, provider: OidcProvider, require_nonce: bool) -> None:
        super().__init__(require_nonce=require_nonce)
        self.provider = provider

    def exists_nonce(self, nonce, request):
        return False  # a nonce is never used twice in these tests

    def resolve_client_private_key(self, client):
        return self.provider.key

    def get_client_algorithm(self, client):
        return "RS256"

    def get_encode_header(self, client):
        return {"alg": "RS256", "kid": "test-key"}

    def get_client_claims(self, client):
        now = int(time.time())
        claims = {"iss": self.provider.url, "aud": [client.get_client_id()], "iat": now, "exp": now + 300}
        if self.provider.token_fault == "expired":
            claims.update(iat=now - 7200, exp=now - 3600, auth_time=now - 7200)
        elif self.provider.token_fault == "wrong_audience":
            claims["aud"] = ["another-client"]
        return claims

    def generate_user_info(self, user, scope):
        return self.provider.claims_of(user)
