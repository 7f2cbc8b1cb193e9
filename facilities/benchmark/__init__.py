"""`facilities benchmark`: how fast pages are at park scale and far beyond (not a test)."""
