"""Tests for dynassign. The folder layout mirrors src/dynassign."""
