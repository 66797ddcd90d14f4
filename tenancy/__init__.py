"""fastmcp-tenancy: tenant files in, isolated per-tenant infrastructure out."""
