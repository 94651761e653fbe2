"""A module that kills the process importing it: a worker whose preload crashes at every start."""

import os

os._exit(3)
