"""Test doubles for newsdelta: the simulated newsroom (`newsdelta.testing.newsroom`)."""
