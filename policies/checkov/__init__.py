"""Marks this folder as a package: checkov loads no checks from a folder without __init__.py."""
