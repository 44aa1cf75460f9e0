"""Money: the flow graph, time-respecting tracing with taint models, laundering typology detectors."""
