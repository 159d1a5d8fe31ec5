#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_app.settings")
    from django.core.management import execute_from_command_line

    from platform_app.production import ProductionRefused

    try:
        execute_from_command_line(sys.argv)
    except ProductionRefused as refused:
        # What to set, in one line: a traceback would bury it.
        sys.exit(f"manage.py: {refused}")
