"""identity (Yabu): residents, municipal IDs, card links, card-tap sign-in, shelter check-in, one-stop
applications and the early-voting declaration pilot, as a Federation 2 subgraph."""
