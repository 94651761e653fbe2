"""The `lensops` command line: thin Typer shells over the engine and the data layer."""
