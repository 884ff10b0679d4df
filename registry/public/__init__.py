"""The public query (公开查询): social public standards and local regulations, no login."""
