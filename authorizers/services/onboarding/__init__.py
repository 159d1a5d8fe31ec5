"""How an account arrives and whose it is (SPEC sections 5 and 9).

- invites.py: the signed invite that names a merchant;
- authorization.py: /start/ (pre_auth_code) and the browser callback;
- pushes.py: the `authorized` push's code exchange;
- grants.py: storing what WeChat granted, under the right merchant;
- ownership.py: placement, conflicts, transfers; holding.py: the holding merchant.
"""
