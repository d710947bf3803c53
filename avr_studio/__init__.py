"""AvR Studio's PySide6 GUI. Imports backend; never torch, transformers or trl."""
