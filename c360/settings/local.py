"""A developer's or demo machine: DEBUG on by default, an insecure secret key allowed."""

from c360.env import env_bool, env_secret

from .base import *  # noqa: F403

DEBUG = env_bool("DEBUG", True)
# Only ever used on a local machine; production.py refuses to start without SECRET_KEY.
SECRET_KEY = env_secret("SECRET_KEY") or "local-development-only-not-a-secret"  # noqa: S105
