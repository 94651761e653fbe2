"""Imported only by a worker's warm-up in test_worker_preloads_its_queues_heavy_modules."""
