"""The graph: identifier normalisation (the join keys), entity resolution, link analysis, Neo4j."""
