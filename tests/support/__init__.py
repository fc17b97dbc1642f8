"""Helpers shared by the test suites: seeding, a simulator per test, the CLI as a process."""
