"""The parts of the transaction-table parser: profiles, layout discovery, readers and the column-wise conversion."""
