"""Record ids: positive integers that fit a signed 64-bit column with room to spare. An id from
outside beyond this is refused as input before any database sees it (SQLite's driver would raise
on it; PostgreSQL answers an error only mid-transaction)."""

MAX_ID = 2**62
