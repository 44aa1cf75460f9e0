"""casegraph: evidence-first toolkit for human-trafficking investigations."""
__version__ = "0.1.0"
TOOL = f"casegraph {__version__}"
