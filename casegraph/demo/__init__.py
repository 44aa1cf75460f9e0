"""The end-to-end demo case: a synthetic scenario run through every stage casegraph has."""
