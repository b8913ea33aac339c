"""Async client for the MXAccess Gateway."""
