"""One module per kind of paper: each turns its payload into a story of flowables and renders it."""
