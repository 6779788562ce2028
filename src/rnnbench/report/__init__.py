"""Turning results into things people read: terminal tables, progress, the summary JSON."""
