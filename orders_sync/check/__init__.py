"""The preflight: is this deployment ready to sync? (interfaces.md "Preflight")."""
