"""基準管理 (criteria administration): the master in force from the database, and the
drafts → approval → publication workflow (docs/criteria-admin.md)."""
