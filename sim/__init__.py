"""countysim engine: SimPy clock, stations, monitors, runner and CLI."""
__version__ = "0.1.0"
