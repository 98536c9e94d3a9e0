"""Production: no secret defaults, HTTPS everywhere. Fails at start when something is missing."""

from django.core.exceptions import ImproperlyConfigured

from c360.env import env_bool, env_int, env_list, env_secret

from .base import *  # noqa: F403

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "SECRET_KEY (or SECRET_KEY_FILE) must be set to a random string of at least 50 characters."
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must name the host(s) this site is served on.")

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Production sits behind one TLS-terminating reverse proxy (the header above comes from it), so
# the client is the address that proxy appends to X-Forwarded-For. Without this every client
# would share the proxy's address, and ten wrong passwords from anyone would lock everyone out.
# 0 when the app itself is reached directly; 2 behind a load balancer and a proxy.
C360_TRUSTED_PROXIES = env_int("C360_TRUSTED_PROXIES", 1, minimum=0)
REST_FRAMEWORK = {**REST_FRAMEWORK, "NUM_PROXIES": C360_TRUSTED_PROXIES}  # noqa: F405
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
