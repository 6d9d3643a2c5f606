"""An example dynassign strategy package: small-batches-first."""
