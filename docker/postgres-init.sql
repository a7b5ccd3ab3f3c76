-- One database per platform: each subgraph is an independent service with its own data.
CREATE DATABASE childcare;
CREATE DATABASE safety;
CREATE DATABASE currency;
CREATE DATABASE identity;
