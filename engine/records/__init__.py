"""Records: reading, writing and finding them, and what pages and reports build on them."""
