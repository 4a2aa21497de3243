"""Accounts, roles, sign-in settings and the audit log; no Streamlit (the app's side is ui/access.py).

roles.py (the roles and what each may do), passwords.py (salted scrypt), accounts.py (the local
accounts file), config.py (idle time, OIDC e-mail/group → role), throttle.py (slowing failed
sign-ins), audit.py (the audit log, SQLite), cli.py (`python -m auth`).
"""
