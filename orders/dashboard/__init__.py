"""The merchant dashboard: server-rendered pages for staff (docs/adr/0011-dashboard.md)."""
