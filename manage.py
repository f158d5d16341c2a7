#!/usr/bin/env python
import os
import sys

# Commands that only read the code: a developer runs them in a bare checkout, with no
# production secrets to give. Everything else (a server, migrate, check --deploy) still stops
# at start-up when DEBUG is off and a required variable is missing.
CODE_ONLY_COMMANDS = {"makemigrations"}


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ldn_tracker.settings")
    if sys.argv[1:2] and sys.argv[1] in CODE_ONLY_COMMANDS:
        os.environ.setdefault("DEBUG", "true")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
