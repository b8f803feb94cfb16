"""Tests for the engines package."""
