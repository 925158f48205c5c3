"""One converter module per format."""
