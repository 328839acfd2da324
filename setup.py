"""Packaging glue that pyproject.toml alone cannot express.

``migrations/`` and ``rules/`` sit at the top of the repository (where an
engineer looks for them) but must travel inside the installed package, so they
are mapped to ``watchdog.migrations`` and ``watchdog.rules``. Everything else
is declared in pyproject.toml.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=find_namespace_packages(include=["watchdog", "watchdog.*"])
    + ["watchdog.migrations", "watchdog.migrations.versions", "watchdog.rules"],
    package_dir={
        "watchdog.migrations": "migrations",
        "watchdog.migrations.versions": "migrations/versions",
        "watchdog.rules": "rules",
    },
    package_data={
        "watchdog.migrations": ["*.mako", "*.ini"],
        "watchdog.rules": ["*.toml"],
        "watchdog": [
            "**/*.toml",
            "**/*.html",
            "**/*.txt",
            "**/*.j2",
            "**/*.eml",
            "**/*.json",
            "**/*.css",
        ],
    },
)
