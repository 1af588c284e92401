"""事業者ポータル (portal).

The employer web portal: server-rendered Japanese pages that call the services' APIs with
the user's token (no business rules of its own), the evaluators' review pages and the
operators' operations screen. See docs/portal.md.
"""
