"""AvR Studio's PySide6 GUI. Imports backend; never torch, transformers or trl."""

from avr_studio.refcount_workaround import pin_singletons

# Before any Qt call: PySide6 6.12 on Python 3.11 drops references to None, True and False (see
# none_refcount.py); without this the app aborted after a few thousand curation keys.
pin_singletons()
