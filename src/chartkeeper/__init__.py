"""chartkeeper: the work of a hospital's medical records technician, done by software."""

__version__ = "0.1.0"
