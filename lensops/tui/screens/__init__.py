"""The dashboard's screens: the overview, a queue's jobs, one job, and the modal dialogs."""
