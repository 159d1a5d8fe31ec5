"""The bottom layer: helpers every app uses and none owns (docs/ARCHITECTURE.md)."""
