"""Settings split by environment: ``base`` (shared, read from the environment), ``local``
(the default for manage.py: a developer's or demo machine), ``test`` and ``production``."""
