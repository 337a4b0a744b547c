"""The guided PERMISSIVE → STRICT migration: preflight, plan, export and saved state are pure;
observe reads traffic evidence through the backend."""
