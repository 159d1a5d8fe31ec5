"""The operators' admin site (site.py), its dashboard and the labels the admin pages share.

Kept outside authorizers/admin/, whose import registers every ModelAdmin on the default site:
the default site's class must import without registering anything on itself first.
"""
