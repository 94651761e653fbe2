"""Families of job types. Each module declares its types with `lensops.registry.job_type`."""
