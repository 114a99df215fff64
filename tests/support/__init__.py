"""Test support code shared by the unit, functional and state machine tests."""
