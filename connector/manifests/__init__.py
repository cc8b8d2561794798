"""Generated platform definitions (Zapier CLI app, Make custom app, OpenAPI, the operations
reference), all derived from the operation declarations in ``actions/`` and ``triggers/``."""
