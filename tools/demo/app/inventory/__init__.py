"""The demo app's package: store (SQLite), pack (zlib through ctypes), stats (numpy)."""
