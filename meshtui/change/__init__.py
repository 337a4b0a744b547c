"""Changing the mesh safely: pure plans, dry-run/apply with rollback, the journal and undo."""
