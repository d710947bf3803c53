"""Import prompts, trees and chains from files into a project, and export its training data to files.

Only `backend/store/` touches the database: importers hand domain objects to a `Store`, exporters
read them back from it.
"""

from backend.io.exporters import EXPORT_FORMATS, EXPORT_KINDS, export, export_rows
from backend.io.importers import FORMAT_CHOICES, RECORD_FORMATS, detect_format, import_file
from backend.io.reports import ExportReport, ImportReport, SkippedRecord

__all__ = [
    "EXPORT_FORMATS", "EXPORT_KINDS", "FORMAT_CHOICES", "RECORD_FORMATS", "ExportReport", "ImportReport",
    "SkippedRecord", "detect_format", "export", "export_rows", "import_file",
]
