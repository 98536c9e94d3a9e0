"""Who may sign in and how (issue 20): company sign-in through OpenID Connect (``oidc``), a second
factor (``otp``), the authentication audit (``audit``) and sessions (``sessions``). Part of the
project's wiring: no domain app imports it."""
