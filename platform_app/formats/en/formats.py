"""One date format across the admin and the pages: ISO dates, 24-hour times with seconds.

Django's English locale would print "Dec. 7, 2026, 1:36 p.m." (no seconds: log rows written
in the same minute look identical); settings.FORMAT_MODULE_PATH points here instead.
"""

DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i:s"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i:s"
TIME_FORMAT = "H:i:s"
