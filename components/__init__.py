"""Pulumi component resources that build one tenant's infrastructure."""
