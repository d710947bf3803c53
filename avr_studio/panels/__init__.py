"""Dockable panels: one feature per module, each a view of the ProjectContext."""
