"""Base layer: errors, settings, clock and ids shared by every other package."""
