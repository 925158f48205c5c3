"""Small shared pieces: the error hierarchy and optional-dependency loading."""
