"""Pulumi entry point: declare the tenants of the cell this stack owns."""

from pathlib import Path

import pulumi

from tenancy import program

program.main(Path(__file__).resolve().parent, pulumi.get_stack())
