"""Reads, one module per topic: token refresh (tokens), the operators' dashboard (dashboard),
and the merchant API's tenant-scoped, cached account lookup (tenant)."""
