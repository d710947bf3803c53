"""Modal dialogs (export, settings, ...)."""
