"""Himeji's childcare platform as a Federation 2 subgraph: children, checkups, vaccinations, facilities."""
