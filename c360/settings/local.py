"""A developer's or demo machine: DEBUG on by default, an insecure secret key allowed."""

from c360.env import env_bool, env_secret, env_str

from .base import *  # noqa: F403

DEBUG = env_bool("DEBUG", True)
# Only ever used on a local machine; production.py refuses to start without SECRET_KEY.
SECRET_KEY = env_secret("SECRET_KEY") or "local-development-only-not-a-secret"  # noqa: S105
# The demo's logins (make run: admin/admin-demo …) work at a first look without an authenticator
# app; production's default is "administrators" (base.py). Set C360_OTP_REQUIRED to try it.
C360_OTP_REQUIRED = env_str("C360_OTP_REQUIRED") or "off"
