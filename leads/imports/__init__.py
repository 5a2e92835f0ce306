"""CSV import of leads (and of a team's past pipeline): browser jobs, the import_leads command, the benchmark.

- (leadhandoff.csv_reader: decoding and reading the CSV, shared with the roster import)
- mapping: lead fields a column can feed, header guesses, checking a mapping
- derived: rules that set a field from a condition or a calculation (parsed, RE2 patterns)
- parse: one row to checked values, in plain Python
- runner: matching rows to leads, status and owner rules, chunked transactions
- writer: the chunk writes (COPY + INSERT ... ON CONFLICT)
- services: the browser flow's writes and the Celery job run
- selectors: the pages' reads (preview, rejected rows, lists)
- forms, views: the browser pages
"""

from leadhandoff.csv_reader import CsvFile, ImportFileError
from leads.imports.mapping import mapping_from_file
from leads.imports.runner import Importer, ImportResult

__all__ = [
    "CsvFile",
    "ImportFileError",
    "ImportResult",
    "Importer",
    "mapping_from_file",
]
