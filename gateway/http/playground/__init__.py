"""GraphiQL playground served from local files (no CDN)."""
