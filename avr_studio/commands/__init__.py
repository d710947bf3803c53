"""Undoable curation commands: one QUndoCommand per action a person takes on a node."""
