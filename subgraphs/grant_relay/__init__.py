"""The currency grant relay: moves identity's CurrencyGrantRequest outbox rows to currency's grantPoints.

It is a client of the gateway like any other (docs/architecture.md: subgraphs trust only the gateway's
context token), authenticated with client credentials of the dev IdP's `kyodo-grant-relay` client.
"""
