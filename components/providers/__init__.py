"""Dynamic providers: thin CRUD adapters over the clients in `components/` (one per external system)."""
