"""Storage: tables, the database, migrations, the stored form of a household, blind indexes."""
