"""事業者ポータル (portal).

The employer web portal.

pages that call the services' APIs with the user's token.

"""
