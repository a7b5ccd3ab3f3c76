"""Kakogawa's safety platform as a Federation 2 subgraph: shelters, evacuation spaces, AEDs,
flood sensors, river gauges and watch-over tags."""
