"""The coordinator web UI and the ops endpoints: the application (``gateway.web.app``) and
its server (``gateway.web.server``).

Nothing is imported here: the command line's user and billing commands use the small modules
of this package (users, audit, CSV), and must not load the server and every route with them,
nor must the daemon when it serves no UI.
"""
