"""CSV import of leads (and of a team's past pipeline): browser jobs, the import_leads command, the benchmark.

- files: decoding and reading the CSV (UTF-8 with or without BOM, comma or semicolon)
- mapping: lead fields a column can feed, header guesses, checking a mapping
- parse: one row to checked values, in plain Python
- runner: matching rows to leads, status and owner rules, chunked transactions
- writer: the chunk writes (COPY + INSERT ... ON CONFLICT on PostgreSQL; bulk ORM elsewhere)
- jobs: the browser flow's services and the Celery job run
"""

from leads.imports.files import CsvFile, ImportFileError
from leads.imports.jobs import (
    import_job_create,
    import_job_run,
    import_job_set_mapping,
    import_job_start,
    import_preview,
    rejections_csv,
)
from leads.imports.mapping import mapping_from_file
from leads.imports.runner import Importer, ImportResult

__all__ = [
    "CsvFile",
    "ImportFileError",
    "ImportResult",
    "Importer",
    "import_job_create",
    "import_job_run",
    "import_job_set_mapping",
    "import_job_start",
    "import_preview",
    "mapping_from_file",
    "rejections_csv",
]
