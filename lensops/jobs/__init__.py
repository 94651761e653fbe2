"""Families of job types. Each module declares its types with `lensops.engine.registry.job_type`."""
