"""Screens pushed over the dashboard: the file viewer and a tool call's details."""
