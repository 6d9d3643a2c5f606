"""Django's SQLite backend with writers queued on a file lock instead of SQLite's busy handler."""
