"""The Flask side of the auth package: requests, the session cookie, routes, pages, CLI.

Everything else (rules, decisions, sessions, store, passwords, providers) is
plain Python that another server backend could use as it is.
"""
